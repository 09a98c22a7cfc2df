"""The schema: the factory's queries and mutations plus the few hand-written fields."""

from typing import Any

import strawberry
from strawberry.extensions import MaxAliasesLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig

from domains.kernel.entity import Registry
from schema.context import Info
from schema.errors import EXCEPTION_HANDLERS, ErrorMapping, OperationScope
from schema.factory import EntitySchemaFactory, attribute_resolver
from schema.workflow import build as build_workflow_schema


def _me_resolver(factory: EntitySchemaFactory) -> Any:
    async def me(info: Info) -> Any:
        viewer = info.context.viewer
        return await info.context.loaders.by_id("User").load(viewer.user_id)

    user_type = factory.types["User"].object
    me.__annotations__ = {"info": Info, "return": user_type | None}
    return me


def build_schema(registry: Registry) -> strawberry.Schema:
    factory = EntitySchemaFactory(registry).build()
    query_fields = {
        "me": strawberry.field(resolver=_me_resolver(factory), description="The signed-in person."),
        **factory.query_fields(),
    }
    workflow_mutations, workflow_subscriptions = build_workflow_schema(factory)
    query = strawberry.type(type("Query", (), query_fields))
    mutation = strawberry.type(type("Mutation", (), {**factory.mutation_fields(), **workflow_mutations}))
    subscription = strawberry.type(type("Subscription", (), workflow_subscriptions))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=[t.object for t in factory.types.values()],
        extensions=[
            ErrorMapping,
            OperationScope,
            # Parsing and validating the same document again on every request cost ~1.4 ms
            # of CPU per request in bench/ (W2); a frontend sends a handful of documents.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
            lambda: QueryDepthLimiter(max_depth=10),
            lambda: MaxAliasesLimiter(max_alias_count=30),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        config=StrawberryConfig(default_resolver=attribute_resolver(registry)),
    )
