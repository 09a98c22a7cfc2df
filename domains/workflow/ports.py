"""What the workflow context needs from outside, as ports the composition root implements."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from domains.kernel.principal import Principal


class People(Protocol):
    async def company_of(self, principal: Principal, user_id: uuid.UUID) -> uuid.UUID | None:
        """The company of a person ``principal`` may see, or None (absent and hidden look alike)."""
        ...


class DocumentRequests(Protocol):
    async def request(
        self,
        principal: Principal,
        *,
        company_id: uuid.UUID,
        owner_id: uuid.UUID,
        kind: str,
        title: str,
        due_on: date,
    ) -> uuid.UUID:
        """Creates a ``REQUESTED`` document of ``kind`` for ``owner_id``; returns its id."""
        ...
