"""Reserved for the events adapter (its own issue)."""
