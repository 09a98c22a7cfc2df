"""Reserved for the blobs adapter (its own issue)."""
