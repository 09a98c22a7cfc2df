"""The per-request context every resolver receives as ``Info[Context, None]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from strawberry.types import Info as StrawberryInfo

from domains.catalog import Commands
from domains.kernel.crud import EntityService
from domains.kernel.errors import DomainError, Unauthenticated
from domains.kernel.principal import Principal
from domains.notification.live import EventFeed as NotificationFeed
from domains.workflow.live import EventFeed
from schema.loaders import Loaders


class StatementCounter(Protocol):
    """What the request's database handle tells about the SQL it ran."""

    statements: int
    seconds: float


@dataclass
class Context:
    services: dict[str, EntityService[Any]]
    commands: Commands
    """Each context's commands for this operation, on its unit of work."""
    feed: EventFeed
    """The process's view of the outbox, which subscriptions read."""
    notification_feed: NotificationFeed
    """The same feed, as the notification context reads it (each context declares its port)."""
    sql: StatementCounter
    request_id: str
    principal: Principal | None = None
    auth_error: str | None = None
    auth_failure: DomainError | None = None  # why the token could not be checked, e.g. Unavailable
    development: bool = False
    request_state: dict[str, Any] = field(default_factory=dict)
    connection_params: dict[str, Any] | None = None
    """A WebSocket's ``connection_init`` payload; None for an HTTP request."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Fresh loaders: a subscription re-reads for every event it yields."""
        self.loaders = Loaders(self.services, lambda: self.viewer)

    @property
    def over_websocket(self) -> bool:
        """On a WebSocket connection (set up by its ``connection_init``), not an HTTP request."""
        return self.connection_params is not None

    @property
    def viewer(self) -> Principal:
        if self.auth_failure is not None:
            raise self.auth_failure
        if self.principal is None:
            raise Unauthenticated(self.auth_error or "a bearer token is required")
        return self.principal

    def service(self, entity: str) -> EntityService[Any]:
        return self.services[entity]


Info = StrawberryInfo[Context, None]

__all__ = ["Context", "Info"]
