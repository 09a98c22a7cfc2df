"""The workflow bounded context."""
