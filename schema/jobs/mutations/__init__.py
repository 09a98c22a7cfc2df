"""The job queue's commands as mutations, one a module."""

from schema.domain import mutation_fields
from schema.jobs.mutations import retry

job_mutations = mutation_fields((retry.MUTATION,))

__all__ = ["job_mutations"]
