"""The hash chain of the audit trail: each entry's hash covers its content and the hash of
the one before, so changing, removing or inserting an entry breaks every hash after it.

``hash = sha256(previous_hash + canonical_json(entry))`` in hex, the first entry's previous
hash being ``GENESIS``. Canonical JSON: keys sorted, no spaces, UTF-8, ids and times as text.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the trail holds it."""

    seq: int
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    on_behalf_of: uuid.UUID | None
    company_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: uuid.UUID | None
    changes: Mapping[str, Any]
    request_id: str | None
    client_address: str | None
    previous_hash: str = GENESIS
    hash: str = GENESIS


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def canonical(entry: StoredEntry) -> str:
    body = {
        "seq": entry.seq,
        "occurredAt": entry.occurred_at.astimezone(UTC).isoformat(),
        "actorId": _text(entry.actor_id),
        "actorRole": entry.actor_role,
        "onBehalfOf": _text(entry.on_behalf_of),
        "companyId": _text(entry.company_id),
        "subjectId": _text(entry.subject_id),
        "action": entry.action,
        "entity": entry.entity,
        "entityId": _text(entry.entity_id),
        "changes": entry.changes,
        "requestId": entry.request_id,
        "clientAddress": entry.client_address,
    }
    return canonical_json(body)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(previous_hash: str, entry: StoredEntry) -> str:
    return hashlib.sha256((previous_hash + canonical(entry)).encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken: Break | None


class ChainWalk:
    """Follows the entries in ``seq`` order, one at a time (a trail of any length in constant
    memory); the first one that does not follow is the break."""

    def __init__(self) -> None:
        self.expected_seq, self.previous, self.checked = 1, GENESIS, 0
        self.broken: Break | None = None

    def step(self, entry: StoredEntry) -> bool:
        """False once broken (the walk can stop)."""
        if self.broken is not None:
            return False
        if entry.seq != self.expected_seq:
            self.broken = Break(self.expected_seq, f"entry {self.expected_seq} is missing (next is {entry.seq})")
        elif entry.previous_hash != self.previous:
            self.broken = Break(entry.seq, "its previous hash is not the hash of the entry before")
        elif chain_hash(self.previous, entry) != entry.hash:
            self.broken = Break(entry.seq, "its hash does not match its content")
        else:
            self.previous, self.expected_seq, self.checked = entry.hash, self.expected_seq + 1, self.checked + 1
        return self.broken is None

    def finish(self, head: tuple[int, str]) -> Verdict:
        """``head``: the last sequence number and hash the trail says it holds (a removed tail)."""
        if self.broken is None:
            last_seq, last_hash = head
            if last_seq != self.checked:
                reason = f"the trail's head says {last_seq} entries, {self.checked} are there"
                self.broken = Break(self.checked + 1, reason)
            elif last_hash != self.previous:
                self.broken = Break(self.checked, "the trail's head hash is not the last entry's")
        return Verdict(self.checked, self.broken)


def verify(entries: Iterable[StoredEntry], head: tuple[int, str]) -> Verdict:
    walk = ChainWalk()
    for entry in entries:
        if not walk.step(entry):
            break
    return walk.finish(head)
