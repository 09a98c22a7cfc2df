"""The company bounded context."""
