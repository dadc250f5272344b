"""Domain logic of the management service."""
