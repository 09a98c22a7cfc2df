"""The webhook commands as mutations, one a module."""

from schema.domain import mutation_fields
from schema.webhook.mutations import disable, register, replay_webhook_delivery

webhook_mutations = mutation_fields((register.MUTATION, disable.MUTATION, replay_webhook_delivery.MUTATION))

__all__ = ["webhook_mutations"]
