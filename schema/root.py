"""The schema: the factory's queries and mutations, the per-domain packages' additions, and
the few hand-written root fields."""

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from domains.kernel.entity import Registry
from schema.audit import AUDIT_SCHEMA
from schema.context import Info
from schema.document import DOCUMENT_SCHEMA
from schema.domain import DomainSchema, merged_root_fields, merged_type_fields
from schema.errors import EXCEPTION_HANDLERS, ErrorMapping, LoggingSchema, OperationScope
from schema.factory import EntitySchemaFactory, attribute_resolver
from schema.jobs import JOBS_SCHEMA
from schema.limits import MAX_MUTATIONS, OperationLimits, OperationShapeLimits
from schema.notification import NOTIFICATION_SCHEMA
from schema.privacy import PRIVACY_SCHEMA
from schema.scalars import CLIENT_SCALARS
from schema.shared_events import SharedEventExecutionContext
from schema.webhook import WEBHOOK_SCHEMA
from schema.workflow import WORKFLOW_SCHEMA

# The operation limits as rule classes, fixed for the process: ``ValidationCache`` keys its
# entries on the rule classes (Strawberry's limiters built a new class per instance). Depth and
# aliases are our own rule, not Strawberry's QueryDepthLimiter and MaxAliasesLimiter, which
# took time exponential in fragments spread twice at every level. The compiled read path
# validates with the same rules.
OPERATION_LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (OperationShapeLimits,)
PARSER_CACHE_SIZE = VALIDATION_CACHE_SIZE = 256


def _operation_limits() -> AddValidationRules:
    return AddValidationRules(list(OPERATION_LIMIT_RULES))


def _parser_cache() -> ParserCache:
    return ParserCache(maxsize=PARSER_CACHE_SIZE)


def _validation_cache() -> ValidationCache:
    return ValidationCache(maxsize=VALIDATION_CACHE_SIZE)


def _me_resolver(factory: EntitySchemaFactory) -> Any:
    async def me(info: Info) -> Any:
        viewer = info.context.viewer
        return await info.context.loaders.by_id("User").load(viewer.user_id)

    user_type = factory.types["User"].object
    me.__annotations__ = {"info": Info, "return": user_type | None}
    return me


# The per-domain packages (``schema/<d>/``): one entry each.
DOMAINS: tuple[DomainSchema, ...] = (
    DOCUMENT_SCHEMA,
    WORKFLOW_SCHEMA,
    WEBHOOK_SCHEMA,
    JOBS_SCHEMA,
    NOTIFICATION_SCHEMA,
    AUDIT_SCHEMA,
    PRIVACY_SCHEMA,
)


def build_schema(
    registry: Registry,
    domains: Sequence[DomainSchema] | None = None,
    *,
    introspection: bool = True,
    max_mutations: int = MAX_MUTATIONS,
) -> strawberry.Schema:
    domains = DOMAINS if domains is None else tuple(domains)
    factory = EntitySchemaFactory(registry, merged_type_fields(domains)).build()
    generated_queries = {
        "me": strawberry.field(resolver=_me_resolver(factory), description="The signed-in person."),
        **factory.query_fields(),
    }
    query_fields = merged_root_fields(factory, generated_queries, ((d.name, d.queries) for d in domains))
    mutation_fields = merged_root_fields(factory, factory.mutation_fields(), ((d.name, d.mutations) for d in domains))
    subscription_fields = merged_root_fields(factory, {}, ((d.name, d.subscriptions) for d in domains))
    query = strawberry.type(type("Query", (), query_fields))
    mutation = strawberry.type(type("Mutation", (), mutation_fields))
    subscription = strawberry.type(type("Subscription", (), subscription_fields)) if subscription_fields else None
    return LoggingSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=[*(t.object for t in factory.types.values()), *(t for d in domains for t in d.types)],
        extensions=[
            ErrorMapping,
            lambda: OperationLimits(max_mutations=max_mutations),
            OperationScope,
            # Parsing and validating the same document again on every request cost ~1.4 ms
            # of CPU per request in bench/ (W2); a frontend sends a handful of documents.
            # One extension instance per request (they hold the request's execution
            # context); the caches and the rule classes they use live for the process.
            _parser_cache,
            _validation_cache,
            _operation_limits,
            *([] if introspection else [DisableIntrospection]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        scalar_overrides=CLIENT_SCALARS,
        execution_context_class=SharedEventExecutionContext,
        config=StrawberryConfig(default_resolver=attribute_resolver(registry)),
        hide_suggestions=not introspection,
    )
