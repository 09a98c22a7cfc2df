"""Implementations of the domain ports: PostgreSQL, blob stores, events, token verification."""
