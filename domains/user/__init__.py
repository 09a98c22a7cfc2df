"""The user bounded context."""
