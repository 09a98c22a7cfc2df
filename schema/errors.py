"""Domain errors as GraphQL: typed union members for mutations, coded errors elsewhere.

A mutation's result is a union of its payload and these error types; Strawberry's
``ExceptionHandler`` turns the domain error a service raised into the matching member.
Anywhere else a domain error becomes a GraphQL error whose ``extensions.code`` is the
domain's stable code; anything unexpected is masked and logged with the request id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from graphql.error import GraphQLError as GraphQLErrorType
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from domains.kernel import errors as domain

log = logging.getLogger("hrgraph.graphql")


@strawberry.interface(description="What every typed error carries.")
class Error:
    code: str
    message: str


@strawberry.type(description="One problem with one input field.")
class FieldError:
    path: list[str]
    message: str


@strawberry.type(description="The input was not acceptable; nothing was changed.")
class ValidationError(Error):
    fields: list[FieldError]


@strawberry.type(description="No such record, or not one you may see.")
class NotFoundError(Error):
    pass


@strawberry.type(description="A stale expectedVersion, or a duplicate of a unique field.")
class ConflictError(Error):
    current_version: int | None = None
    field: str | None = None


@strawberry.type(description="You may not do this.")
class ForbiddenError(Error):
    pass


@strawberry.type(description="The record's state does not allow this change.")
class InvalidTransitionError(Error):
    current: str
    target: str

    @strawberry.field(name="from", description="The state it is in (as current).")
    def from_(self) -> str:
        return self.current

    @strawberry.field(description="The state asked for (as target).")
    def to(self) -> str:
        return self.target


MUTATION_ERRORS = (ValidationError, NotFoundError, ConflictError, ForbiddenError, InvalidTransitionError)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _field_errors(error: domain.Invalid) -> list[FieldError]:
    """One entry per message, the path in the client's (camelCase) names."""
    return [
        FieldError(path=[_camel(p) for p in path], message=message)
        for path, messages in error.problems.items()
        for message in messages
    ]


class InvalidHandler(strawberry.ExceptionHandler[domain.Invalid, ValidationError]):
    def handle(self, exception: domain.Invalid, **_: Any) -> ValidationError:
        return ValidationError(code=exception.code, message=exception.message, fields=_field_errors(exception))


class NotFoundHandler(strawberry.ExceptionHandler[domain.NotFound, NotFoundError]):
    def handle(self, exception: domain.NotFound, **_: Any) -> NotFoundError:
        return NotFoundError(code=exception.code, message=exception.message)


class ConflictHandler(strawberry.ExceptionHandler[domain.Conflict, ConflictError]):
    def handle(self, exception: domain.Conflict, **_: Any) -> ConflictError:
        return ConflictError(
            code=exception.code,
            message=exception.message,
            current_version=exception.current_version,
            field=_camel(exception.field) if exception.field else None,
        )


class ForbiddenHandler(strawberry.ExceptionHandler[domain.Forbidden, ForbiddenError]):
    def handle(self, exception: domain.Forbidden, **_: Any) -> ForbiddenError:
        return ForbiddenError(code=exception.code, message=exception.message)


class InvalidTransitionHandler(strawberry.ExceptionHandler[domain.InvalidTransition, InvalidTransitionError]):
    def handle(self, exception: domain.InvalidTransition, **_: Any) -> InvalidTransitionError:
        return InvalidTransitionError(
            code=exception.code, message=exception.message, current=exception.current, target=exception.target
        )


EXCEPTION_HANDLERS = (
    InvalidHandler(),
    NotFoundHandler(),
    ConflictHandler(),
    ForbiddenHandler(),
    InvalidTransitionHandler(),
)


def _details(error: domain.DomainError) -> dict[str, Any]:
    if isinstance(error, domain.Invalid):
        return {"fields": [{"path": f.path, "message": f.message} for f in _field_errors(error)]}
    if isinstance(error, domain.Conflict):
        return {"currentVersion": error.current_version}
    return {}


class ErrorMapping(SchemaExtension):
    """Refuses anonymous operations, codes domain errors, masks the unexpected."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if context.principal is None and self._touches_data():
            message = context.auth_error or "a bearer token is required"
            self.execution_context.result = ExecutionResult(
                data=None, errors=[GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})]
            )
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._map(e) for e in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Streaming transports (WebSocket) send each result before the operation ends:
        mapped here, before it leaves, exactly as ``on_operation`` maps an HTTP answer."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._map(e) for e in errors]
        yield

    def _touches_data(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return True
        name = self.execution_context.operation_name
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode) and (
                name is None or (definition.name and definition.name.value == name)
            ):
                return any(
                    not getattr(getattr(s, "name", None), "value", "").startswith("__")
                    for s in definition.selection_set.selections
                )
        return True

    def _map(self, error: GraphQLErrorType) -> GraphQLErrorType:
        original = error.original_error
        if original is None or (error.extensions or {}).get("code"):
            return error
        if isinstance(original, domain.DomainError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, **_details(original)},
            )
        request_id = getattr(self.execution_context.context, "request_id", None)
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()),
            request_id,
            exc_info=original,
            extra={"request_id": request_id},
        )
        return GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


class OperationScope(SchemaExtension):
    """Fresh loaders per operation, and (outside production) the SQL it cost."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context.for_operation()
        self.execution_context.context = context
        context.reset()
        self._statements = context.sql.statements
        self._seconds = context.sql.seconds
        yield
        context.request_state["operation"] = self._operation_name()

    def _operation_name(self) -> str | None:
        if self.execution_context.operation_name:
            return self.execution_context.operation_name
        document = self.execution_context.graphql_document
        names = [
            d.name.value
            for d in (document.definitions if document else ())
            if isinstance(d, OperationDefinitionNode) and d.name is not None
        ]
        return names[0] if len(names) == 1 else None

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not context.development:
            return {}
        return {
            "sql": {
                "statements": context.sql.statements - self._statements,
                "ms": round((context.sql.seconds - self._seconds) * 1000, 2),
            }
        }
