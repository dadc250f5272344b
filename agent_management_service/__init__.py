"""Nooble4 management service: tenants, API keys, agents, templates, tier limits."""
