"""The audit trail: its hash chain and who may read which entries."""
