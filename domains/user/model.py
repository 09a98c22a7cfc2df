from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from domains.kernel.entity import Entity
from domains.kernel.errors import Forbidden
from domains.kernel.principal import Principal, Role


@dataclass(kw_only=True)
class User(Entity):
    """A person at a company: an employee, an HR officer or an administrator."""

    company_id: uuid.UUID
    email: str
    full_name: str
    role: Role = Role.EMPLOYEE
    manager_id: uuid.UUID | None = None
    legal_hold: bool | None = None
    """Set by HR: while true, retention deletes none of the person's documents."""

    def normalise_email(self) -> None:
        self.email = self.email.strip().lower()

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.manager_id is not None and self.manager_id == self.id:
            yield "manager_id", "a person cannot be their own manager"

    def ensure_role_change_allowed(self, previous: User, actor: Principal) -> None:
        if previous.role is Role.ADMIN and not actor.is_admin:
            raise Forbidden("only an administrator may change an administrator")
        if self.role != previous.role and not ({Role.HR, Role.ADMIN} & actor.roles):
            raise Forbidden("only HR or an administrator may change a role")
        if self.role is Role.ADMIN and previous.role is not Role.ADMIN and not actor.is_admin:
            raise Forbidden("only an administrator may make an administrator")
