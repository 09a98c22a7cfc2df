"""The shared kernel: errors, ids, principals, paging and the entity declaration language."""
