"""Domain logic of the orchestrator service."""
