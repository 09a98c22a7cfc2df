"""Who is asking: built by the app from a verified token, read by every service."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from domains.kernel.errors import Forbidden


class Role(enum.Enum):
    EMPLOYEE = "EMPLOYEE"
    HR = "HR"
    ADMIN = "ADMIN"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    company_id: uuid.UUID
    roles: frozenset[Role]
    email: str = ""

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def company_scope(self) -> uuid.UUID | None:
        """The company whose rows this principal manages; None for every company (ADMIN)."""
        return None if self.is_admin else self.company_id

    def sees_company(self, company_id: uuid.UUID | None) -> bool:
        return self.is_admin or company_id == self.company_id

    def require_manager(self, refusal: str) -> None:
        """HR and ADMIN pass; anyone else is ``Forbidden`` with ``refusal``."""
        if not (self.is_admin or Role.HR in self.roles):
            raise Forbidden(refusal)
