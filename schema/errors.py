"""Domain errors as GraphQL: typed union members for mutations, coded errors elsewhere.

A mutation's result is a union of its payload and these error types; Strawberry's
``ExceptionHandler`` turns the domain error a service raised into the matching member.
Anywhere else a domain error becomes a GraphQL error whose ``extensions.code`` is the
domain's stable code; anything unexpected is masked and logged with the request id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from graphql.error import GraphQLError as GraphQLErrorType
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from domains.kernel import errors as domain
from domains.kernel.events import camel

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

    @strawberry.field(name="from", description="The state it is in (as current).")  # type: ignore[untyped-decorator]
    def from_(self) -> str:
        return self.current

    @strawberry.field(description="The state asked for (as target).")  # type: ignore[untyped-decorator]
    def to(self) -> str:
        return self.target


MUTATION_ERRORS = (ValidationError, NotFoundError, ConflictError, ForbiddenError, InvalidTransitionError)


def _field_errors(error: domain.Invalid) -> list[FieldError]:
    """One entry per message, the path in the client's (camelCase) names."""
    return [
        FieldError(path=[camel(p) for p in path], message=message)
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
            field=camel(exception.field) if exception.field else None,
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


# The one operation an anonymous caller may send: it proves the endpoint speaks GraphQL and
# reveals nothing. Checked on the text, so nothing anonymous is ever parsed or validated.
_PUBLIC_OPERATION = re.compile(r"\s*(?:query\s*(?:[_A-Za-z][_0-9A-Za-z]*\s*)?)?\{\s*__typename\s*\}\s*")


def is_unexpected(error: GraphQLErrorType) -> bool:
    """A fault of ours rather than of the request: masked for the client, logged as ERROR."""
    if (error.extensions or {}).get("code"):
        return False
    original = error.original_error
    if isinstance(original, domain.DomainError):
        return False
    if error.path is None:  # the document or the variables, unless Python itself failed
        return original is not None and not isinstance(original, GraphQLErrorType)
    return True  # a field failed for a reason no domain rule names


def _stage_code(error: GraphQLErrorType, execution_context: ExecutionContext) -> str:
    """The code of a client error that has none yet, from the stage that produced it.
    (Validation errors get theirs as validation ends: see ``ErrorMapping.on_validate``.)"""
    if execution_context.graphql_document is None:
        return "GRAPHQL_PARSE_FAILED"
    return "BAD_USER_INPUT"  # without a path, after validation: the variables do not fit their types


SUBSCRIPTION_OVER_HTTP = (
    "subscriptions are served over WebSocket on this same URL (graphql-transport-ws, or the legacy "
    "graphql-ws protocol), not over HTTP"
)


class ErrorMapping(SchemaExtension):
    """Refuses anonymous operations before parsing, codes every error, masks the unexpected."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLErrorType as error:
            # Raised past the other hooks (a parse error from the parser cache, a refusal):
            # it reaches the client as it is, so it gets its code here.
            self._map(error)
            raise
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [self._map(e) for e in result.errors]

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context.context
        query = self.execution_context.query or ""
        failure = context.auth_failure
        if failure is not None:  # the token could not be checked at all (the database is down)
            raise GraphQLError(failure.message, extensions={"code": failure.code})
        if context.principal is None and not (len(query) <= 200 and _PUBLIC_OPERATION.fullmatch(query)):
            # Raised, not returned: parsing never starts, and the error leaves as it is.
            raise GraphQLError(
                context.auth_error or "a bearer token is required", extensions={"code": "UNAUTHENTICATED"}
            )
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context.context
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION and not context.over_websocket:
            # Over HTTP a subscription would run as a query and fail on its event stream: a
            # client's mistake, refused before validation (an error result, logged at INFO).
            raise GraphQLError(SUBSCRIPTION_OVER_HTTP, extensions={"code": "SUBSCRIPTION_REQUIRES_WEBSOCKET"})
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}

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
        if isinstance(original, domain.DomainError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, **_details(original)},
            )
        if (error.extensions or {}).get("code"):
            return error
        if is_unexpected(error):  # normally masked already, by LoggingSchema.process_errors
            request_id = getattr(self.execution_context.context, "request_id", None)
            return GraphQLError(
                "Internal server error",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            )
        error.extensions = {**(error.extensions or {}), "code": _stage_code(error, self.execution_context)}
        return error


# graphql-core's hint, as it appends it to a message ("... on type 'User'. Did you mean
# 'email'?", "... Did you mean the enum value 'APPROVED'? Found: ..."): names are never "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


class LoggingSchema(strawberry.Schema):
    """Logs each error once, by kind: the client's mistakes at INFO in one line, our faults
    at ERROR with the traceback and the request id. (Strawberry logs every error at ERROR
    with a traceback, so a fuzzing client filled the log with noise.)

    With ``hide_suggestions`` (introspection off) no message suggests a name: "Did you mean
    'email'?" would hand out, one guess at a time, the schema that introspection withholds.
    The log line keeps the hint."""

    def __init__(self, *args: Any, hide_suggestions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def process_errors(self, errors: list[GraphQLErrorType], execution_context: ExecutionContext | None = None) -> None:
        self._log_errors(errors, execution_context)
        if self.hide_suggestions:
            for error in errors:
                error.message = without_suggestions(error.message)

    def _log_errors(self, errors: list[GraphQLErrorType], execution_context: ExecutionContext | None) -> None:
        context = execution_context.context if execution_context is not None else None
        request_id = getattr(context, "request_id", None)
        for error in errors:
            if is_unexpected(error):
                log.error(
                    "unexpected error in %s (request %s)",
                    ".".join(str(p) for p in error.path or ()) or "the operation",
                    request_id,
                    exc_info=error.original_error or error,
                    extra={"request_id": request_id},
                )
                # Masked in place: some errors (an extension failing) reach the client
                # without passing ErrorMapping, and none may carry our internals out.
                error.message = "Internal server error"
                error.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
            else:
                code = (error.extensions or {}).get("code")
                if isinstance(error.original_error, domain.DomainError):
                    code = error.original_error.code
                elif code is None and execution_context is not None:
                    code = _stage_code(error, execution_context)
                    error.extensions = {**(error.extensions or {}), "code": code}
                log.info(
                    "client error: %s",
                    error.message,
                    extra={"request_id": request_id, "code": code},
                )


class OperationScope(SchemaExtension):
    """Fresh loaders per operation, and (outside production) the SQL it cost."""

    def on_operation(self) -> Iterator[None]:
        # A request's context is its only operation's; on a WebSocket the app gives each
        # operation a context of its own (own session and transaction, signed in again).
        context = self.execution_context.context
        context.reset()
        # A request's first operation also reports the SQL spent before it began (the look-up
        # of the token's user); later operations on the same WebSocket report only their own.
        first = not context.request_state.get("sql_reported")
        context.request_state["sql_reported"] = True
        self._statements = 0 if first else context.sql.statements
        self._seconds = 0.0 if first else context.sql.seconds
        # Authentication read the viewer's row; `me` reuses it. Only in the first operation:
        # on a long-lived WebSocket the row may since have changed.
        viewer = context.request_state.pop("viewer_record", None)
        if first and viewer is not None and context.principal is not None and viewer.id == context.principal.user_id:
            context.loaders.by_id("User").prime(viewer.id, viewer)
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
