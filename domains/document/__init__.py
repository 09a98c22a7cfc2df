"""The document bounded context."""
