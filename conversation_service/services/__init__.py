"""Domain logic of the conversation service."""
