"""Domain logic of the query service."""
