"""Clients of other services (over Redis) and of third parties."""
