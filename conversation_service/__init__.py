"""Nooble4 conversation service: conversations, messages, context windows."""
