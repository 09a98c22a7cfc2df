"""The one error hierarchy of the domain. Each error has a stable ``code`` that clients may rely on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, id: object) -> None:
        super().__init__(f"{entity} {id} was not found")
        self.entity = entity
        self.id = id


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Conflict(DomainError):
    """A stale ``expectedVersion`` (``current_version`` set) or a duplicate of a unique field (``field`` set)."""

    code = "CONFLICT"

    def __init__(self, message: str, *, current_version: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.field = field


class Invalid(DomainError):
    """Bad input: one or more messages per field path. Nothing was changed."""

    code = "INVALID"

    def __init__(self, problems: Mapping[tuple[str, ...], Sequence[str]] | str) -> None:
        if isinstance(problems, str):
            self.problems: dict[tuple[str, ...], list[str]] = {(): [problems]}
        else:
            self.problems = {tuple(path): list(msgs) for path, msgs in problems.items()}
        super().__init__(
            "; ".join(f"{'.'.join(path) or 'input'}: {msg}" for path, msgs in self.problems.items() for msg in msgs)
        )

    @classmethod
    def field(cls, name: str, message: str) -> Invalid:
        return cls({(name,): [message]})


class Unavailable(DomainError):
    """A part the service needs (the database) cannot be reached now; trying again later may work."""

    code = "SERVICE_UNAVAILABLE"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot go from {current} to {target}")
        self.current = current
        self.target = target
