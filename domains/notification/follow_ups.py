"""Follow-ups of what is due: when a document or a workflow step was last reminded and
escalated (for its current due date), and a company's own reminder days and escalation delay (HR and ADMIN set them).

The worker's scans write the follow-ups (``adapters/jobs``); here they are read. A follow-up
recorded for an earlier due date says nothing of the current one: a moved due date starts
afresh.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from domains.kernel.errors import Forbidden, Invalid
from domains.kernel.principal import Principal, Role
from domains.kernel.unit_of_work import Transactional

MAX_REMINDER_DAYS = 10
MAX_DAYS = 365
DOCUMENT = "DOCUMENT"
WORKFLOW_STEP = "WORKFLOW_STEP"
TARGET_TYPES = (DOCUMENT, WORKFLOW_STEP)


@dataclass(frozen=True)
class FollowUp:
    target_id: uuid.UUID
    due_on: date
    reminded_at: datetime | None
    escalated_at: datetime | None
    escalation_stage: int

    def for_due_date(self, due_on: date | None) -> FollowUp | None:
        return self if due_on is not None and due_on == self.due_on else None


@dataclass(frozen=True)
class FollowUpSettings:
    reminder_days: tuple[int, ...]
    """Days before a due date its owner is reminded (0: on the day), nearest last."""
    escalate_after_days: int
    """Overdue this many days: the owner's manager is told; twice as many: HR."""
    own: bool = False
    """The company's own, or the defaults."""


class FollowUpStore(Protocol):
    async def follow_ups(self, target_type: str, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, FollowUp]: ...

    async def settings(self, company_id: uuid.UUID) -> FollowUpSettings | None: ...

    async def save_settings(self, company_id: uuid.UUID, settings: FollowUpSettings) -> None: ...


class FollowUpCommands:
    def __init__(self, store: FollowUpStore, defaults: FollowUpSettings, uow: Transactional) -> None:
        self.store = store
        self.defaults = defaults
        self.uow = uow

    async def of_targets(self, target_type: str, ids: Sequence[uuid.UUID]) -> Mapping[uuid.UUID, FollowUp]:
        """Of documents or workflow steps the caller has already read (their rights were checked there)."""
        if target_type not in TARGET_TYPES:
            raise Invalid.field("target_type", f"must be one of {', '.join(TARGET_TYPES)}")
        return await self.store.follow_ups(target_type, ids)

    @staticmethod
    def _require_manager(viewer: Principal) -> None:
        if not (viewer.is_admin or Role.HR in viewer.roles):
            raise Forbidden("only HR and ADMIN see and set the company's follow-ups")

    async def settings(self, viewer: Principal) -> FollowUpSettings:
        self._require_manager(viewer)
        return await self.store.settings(viewer.company_id) or self.defaults

    async def set_settings(
        self, viewer: Principal, reminder_days: Sequence[int] | None, escalate_after_days: int | None
    ) -> FollowUpSettings:
        self._require_manager(viewer)
        current = await self.settings(viewer)
        days = tuple(sorted(set(current.reminder_days if reminder_days is None else reminder_days), reverse=True))
        after = current.escalate_after_days if escalate_after_days is None else escalate_after_days
        problems: dict[tuple[str, ...], list[str]] = {}
        if len(days) > MAX_REMINDER_DAYS or any(d < 0 or d > MAX_DAYS for d in days):
            problems[("reminder_days",)] = [f"must be at most {MAX_REMINDER_DAYS} days, each from 0 to {MAX_DAYS}"]
        if after < 1 or after > MAX_DAYS:
            problems[("escalate_after_days",)] = [f"must be from 1 to {MAX_DAYS}"]
        if problems:
            raise Invalid(problems)
        saved = FollowUpSettings(days, after, own=True)
        async with self.uow.transaction():
            await self.store.save_settings(viewer.company_id, saved)
        return saved
