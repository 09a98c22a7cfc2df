"""The audit trail's pure parts: what a change records (a secret field's values never), and
the hash chain's verdicts."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from domains.audit.chain import GENESIS, StoredEntry, chain_hash, verify
from domains.kernel.audit import AuditOrigin, change_entry, changes
from domains.kernel.entity import Access, Entity, EntitySpec, string
from domains.kernel.principal import Principal, Role


@dataclass(kw_only=True)
class Account(Entity):
    company_id: uuid.UUID
    owner_id: uuid.UUID
    name: str = ""
    tax_number: str | None = None


ACCOUNT = EntitySpec(
    name="Account",
    plural="accounts",
    model=Account,
    table="accounts",
    owner_field="owner_id",
    fields=(string("name"), string("tax_number", secret=True)),
    access=Access(read={}, create={}, update={}, delete={}),
)


def test_a_change_records_old_and_new_values_but_a_secret_field_only_as_changed() -> None:
    before = Account(company_id=uuid.uuid4(), owner_id=uuid.uuid4(), name="Old", tax_number="123")
    after = dataclasses.replace(before, name="New", tax_number="456", version=2)
    row = {f.name: getattr(before, f.name) for f in dataclasses.fields(before)}
    assert changes(ACCOUNT, row, after) == {"name": {"old": "Old", "new": "New"}, "taxNumber": {"secret": True}}
    unchanged = dataclasses.replace(before, version=3)
    assert changes(ACCOUNT, row, unchanged) == {}


def test_an_entry_names_the_person_the_record_is_about_and_the_verb() -> None:
    actor = Principal(uuid.uuid4(), uuid.uuid4(), frozenset({Role.HR}))
    account = Account(company_id=actor.company_id, owner_id=uuid.uuid4(), name="A")
    entry = change_entry(ACCOUNT, None, account, AuditOrigin.of(actor, "r1", "10.0.0.1"))
    assert (entry.action, entry.subject_id, entry.company_id) == ("create", account.owner_id, actor.company_id)
    row = {f.name: getattr(account, f.name) for f in dataclasses.fields(account)}
    deleted = dataclasses.replace(account, deleted_at=datetime.now(UTC))
    assert change_entry(ACCOUNT, row, deleted, AuditOrigin()).action == "delete"


def _chain(n: int) -> list[StoredEntry]:
    entries, previous = [], GENESIS
    for seq in range(1, n + 1):
        entry = StoredEntry(
            seq=seq,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
            actor_id=None,
            actor_role="SYSTEM",
            on_behalf_of=None,
            company_id=None,
            subject_id=None,
            action="create",
            entity="Account",
            entity_id=uuid.UUID(int=seq),
            changes={"name": {"old": None, "new": f"n{seq}"}},
            request_id=None,
            client_address=None,
            previous_hash=previous,
        )
        entry = dataclasses.replace(entry, hash=chain_hash(previous, entry))
        entries.append(entry)
        previous = entry.hash
    return entries


def test_an_intact_chain_verifies_and_each_kind_of_tampering_is_named() -> None:
    entries = _chain(5)
    head = (5, entries[-1].hash)
    assert verify(entries, head).broken is None and verify(entries, head).checked == 5
    changed = [*entries[:2], dataclasses.replace(entries[2], action="delete"), *entries[3:]]
    assert verify(changed, head).broken is not None and verify(changed, head).broken.seq == 3  # type: ignore[union-attr]
    removed = [*entries[:1], *entries[2:]]
    assert verify(removed, head).broken.seq == 2  # type: ignore[union-attr]
    rehashed = dataclasses.replace(changed[2], hash=chain_hash(changed[2].previous_hash, changed[2]))
    forged = [*entries[:2], rehashed, *entries[3:]]
    assert verify(forged, head).broken.seq == 4  # type: ignore[union-attr]
    assert verify(entries[:4], head).broken.seq == 5  # type: ignore[union-attr]
