"""Domain logic of the execution service."""
