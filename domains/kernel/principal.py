"""Who is asking: built by the app from a verified token, read by every service."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


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
