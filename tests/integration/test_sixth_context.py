"""Adding a context is seven production files (docs/ARCHITECTURE.md, "Adding a context").

The test copies the repository, writes there what a developer would write for a Training
context (its entity and declaration, its event, its commands, the package; a line each in the
catalog and the bus's table; a migration), and proves two things: that nothing else of the
production code changed (the count), and that it works in that copy, on a fresh PostgreSQL
database migrated by the copy's own migrations:

- its command (``complete``) moves a training and records ``TrainingCompleted``; an employee
  is refused;
- another context's change reaches it through the real bus: HR approves the certificate
  (``approveDocument``'s command, document context) → ``DocumentApproved`` → the training
  context's reaction, in the approval's transaction → ``TrainingCompleted``, after the
  approval in the outbox;
- the import contracts hold in the copy: the new context is checked without anyone listing
  it, and it never imports the document context.
"""

from __future__ import annotations

import asyncio
import filecmp
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from app.database import alembic_config

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("app", "adapters", "domains", "schema")
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "frontend", ".data", "__pycache__", "*_cache", "dist", "bench"
)
OWN_SETTINGS = ("APP_ENV", "DATABASE_URL", "JWT_SECRET", "JWKS_URL", "DATA_DIR", "TEST_DATABASE_URL")

INIT = '''"""Trainings: a course a person must complete, shown by an approved certificate."""
'''

EVENTS = '''"""The training context's events (published: class name and camelCase fields)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domains.kernel.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TrainingCompleted(DomainEvent):
    aggregate: ClassVar[str] = "Training"
    aggregate_key: ClassVar[str] = "training_id"

    training_id: uuid.UUID
    user_id: uuid.UUID
    company_id: uuid.UUID
    actor_id: uuid.UUID | None
    occurred_at: datetime
'''

MODEL = '''"""A training, its one move, and its declaration."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from domains.kernel.entity import Access, Entity, EntitySpec, Reach, choice, reference, string, utcnow
from domains.kernel.principal import Role
from domains.training.events import TrainingCompleted


class TrainingStatus(enum.Enum):
    ASSIGNED = "ASSIGNED"
    COMPLETED = "COMPLETED"


@dataclass(kw_only=True)
class Training(Entity):
    company_id: uuid.UUID
    user_id: uuid.UUID
    title: str
    certificate_id: uuid.UUID
    status: TrainingStatus = TrainingStatus.ASSIGNED

    def complete(self, actor_id: uuid.UUID | None) -> bool:
        """Completes it once; says whether this call did."""
        if self.status is TrainingStatus.COMPLETED:
            return False
        self.status = TrainingStatus.COMPLETED
        self.record_event(
            TrainingCompleted(
                training_id=self.id,
                user_id=self.user_id,
                company_id=self.company_id,
                actor_id=actor_id,
                occurred_at=utcnow(),
            )
        )
        return True


TRAINING = EntitySpec(
    name="Training",
    plural="trainings",
    model=Training,
    table="trainings",
    owner_field="user_id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        reference("user_id", "User", required=True, on_update=False),
        string("title", required=True, max_length=200),
        reference("certificate_id", "Document", required=True, on_update=False),
        choice("status", TrainingStatus, required=True, on_create=False, on_update=False),
    ),
    access=Access(
        read={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
)
'''

SERVICE = '''"""The training commands: complete by hand, and the reaction to an approved certificate."""

from __future__ import annotations

import uuid

from domains.kernel.errors import NotFound
from domains.kernel.operation import KernelPorts
from domains.kernel.principal import Principal
from domains.kernel.query import Condition, Op, PageRequest
from domains.kernel.versions import check_version
from domains.training.model import TRAINING, Training


class TrainingCommands:
    def __init__(self, kernel: KernelPorts) -> None:
        self.trainings = kernel.services["Training"]
        self.store = kernel.store
        self.uow = kernel.uow

    async def complete(self, actor: Principal, id: uuid.UUID, expected_version: int) -> Training:
        actor.require_manager("only HR completes a training by hand")
        async with self.uow.transaction():
            training = await self.trainings.get(actor, id)
            if training is None:
                raise NotFound("Training", id)
            check_version("Training", training, expected_version)
            training.complete(actor.user_id)
            await self.store.save(TRAINING, training, expected_version)
            return training

    async def on_certificate_approved(self, document_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
        """A reaction, in the approval's transaction: the trainings it certifies complete."""
        waiting = Condition("certificate_id", Op.EQ, document_id)
        page = await self.store.find(TRAINING, waiting, TRAINING.default_order, PageRequest(), 100)
        for training in page.items:
            expected = training.version
            if training.complete(actor_id):
                await self.store.save(TRAINING, training, expected)
'''

REACTION = '''

async def training_follows_certificate(event: DocumentApproved, commands: Commands) -> None:
    """An approved certificate completes the trainings waiting for it, in its transaction."""
    await commands.training.on_certificate_approved(event.document_id, event.actor_id)
'''

MIGRATION = '''"""trainings

Revision ID: 0099
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

from adapters.sql import rls

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.Uuid(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for statement in rls.policy_statements(rls.Wall("trainings", "company_id")):  # the database's wall
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("trainings")
'''

# Runs in the copy: migrate a fresh database, load the demo, then the command and the reaction.
SCENARIO = '''
import asyncio, json, os
import sqlalchemy as sa
from adapters.auth.sign_in import SYSTEM, principal_of
from adapters.sql.database import RequestDatabase
from app.database import migrate
from app.seed import seed_demo
from app.settings import Settings
from app.wiring import Container
from domains.document.model import Document, DocumentKind, DocumentStatus
from domains.kernel.errors import Forbidden


async def main() -> dict:
    url = os.environ["DATABASE_URL"]
    await asyncio.to_thread(migrate, url)
    container = Container.build(Settings(), url)
    try:
        await seed_demo(container)
        op = container.operation(RequestDatabase(container.engine))
        people = {u.email: u for u in (await op.services["User"].list(SYSTEM)).items}
        hr, alice = principal_of(people["hr@acme.example"]), people["alice@acme.example"]

        async def certificate_and_training(title: str):
            document = Document(company_id=alice.company_id, owner_id=alice.id, title=title + " certificate",
                                kind=DocumentKind.CERTIFICATE, status=DocumentStatus.IN_REVIEW, file_version=1)
            async with op.uow.transaction():
                await op.services["Document"].store.insert(op.services["Document"].spec, document)
            data = {"user_id": alice.id, "title": title, "certificate_id": document.id}
            return document, await op.services["Training"].create(hr, data)

        by_hand_document, by_hand = await certificate_and_training("First aid")
        try:
            await op.commands.training.complete(principal_of(alice), by_hand.id, by_hand.version)
            refused = None
        except Forbidden as error:
            refused = error.message
        completed = await op.commands.training.complete(hr, by_hand.id, by_hand.version)

        document, training = await certificate_and_training("Fire safety")
        approved = await op.commands.document.approve(hr, document.id, document.version)
        reacted = await op.services["Training"].get(hr, training.id)
        async with container.engine.connect() as conn:
            rows = await conn.execute(
                sa.text("SELECT type, aggregate_id, actor_id FROM events WHERE aggregate_id = ANY(:ids) ORDER BY id"),
                {"ids": [by_hand.id, document.id, training.id]},
            )
            events = [[r.type, str(r.aggregate_id), str(r.actor_id)] for r in rows]
        return {
            "refused": refused,
            "by_hand": [completed.status.value, completed.version],
            "approved": approved.status.value,
            "reacted": [reacted.status.value, reacted.version],
            "events": events,
            "ids": {"by_hand": str(by_hand.id), "document": str(document.id), "training": str(training.id),
                    "hr": str(hr.user_id)},
        }
    finally:
        await container.engine.dispose()


print(json.dumps(asyncio.run(main())))
'''


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name} no longer has {old!r} once: update this test's edit"
    path.write_text(text.replace(old, new))


def _add_the_context(copy: Path, head: str) -> None:
    package = copy / "domains" / "training"
    package.mkdir()
    (package / "__init__.py").write_text(INIT)
    (package / "events.py").write_text(EVENTS)
    (package / "model.py").write_text(MODEL)
    (package / "service.py").write_text(SERVICE)

    catalog = copy / "domains" / "catalog.py"
    _edit(catalog, "from domains.user.spec import USER\n", "from domains.training.model import TRAINING\n"
          "from domains.training.service import TrainingCommands\nfrom domains.user.spec import USER\n")
    _edit(catalog, "PERSON_DATA_EXPORT])", "PERSON_DATA_EXPORT, TRAINING])")
    _edit(catalog, "    jobs: JobCommands\n", "    jobs: JobCommands\n    training: TrainingCommands\n")
    built = "Callable[[KernelPorts], Any]] = {"
    _edit(catalog, built + "}", built + '"training": TrainingCommands}')

    reactions = copy / "app" / "reactions.py"
    _edit(reactions, "\n\ndef build_bus(", REACTION + "\n\ndef build_bus(")
    subscribed = "    bus.subscribe(DocumentApproved, training_follows_certificate)\n"
    _edit(reactions, "    return bus\n", subscribed + "    return bus\n")

    versions = copy / "adapters" / "sql" / "migrations" / "versions"
    (versions / "0099_trainings.py").write_text(MIGRATION.format(head=head))


def _changed(original: Path, copy: Path) -> list[str]:
    """The production files of ``copy`` that are new or differ from ``original``'s."""
    changed = []
    for folder in PRODUCTION:
        for path in sorted((copy / folder).rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            before = original / path.relative_to(copy)
            if not before.exists() or not filecmp.cmp(before, path, shallow=False):
                changed.append(str(path.relative_to(copy)))
    return changed


@pytest.fixture
def fresh_database(server_url: str):
    name = f"hrgraph_context_{uuid.uuid4().hex[:10]}"
    admin = sa.engine.make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_context_with_a_command_an_event_and_a_reaction_is_seven_files(tmp_path: Path, fresh_database: str) -> None:
    from alembic.script import ScriptDirectory

    copy = tmp_path / "house"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    head = ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()
    assert head is not None
    _add_the_context(copy, head)

    assert _changed(ROOT, copy) == [
        "app/reactions.py",
        "adapters/sql/migrations/versions/0099_trainings.py",
        "domains/catalog.py",
        "domains/training/__init__.py",
        "domains/training/events.py",
        "domains/training/model.py",
        "domains/training/service.py",
    ]

    env = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    env.update(APP_ENV="development", DATABASE_URL=fresh_database, DATA_DIR=str(tmp_path / "data"))
    env["PYTHONPATH"] = str(copy)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCENARIO)],
        cwd=copy, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    ids = seen["ids"]
    assert seen["refused"] == "only HR completes a training by hand"
    assert seen["by_hand"] == ["COMPLETED", 2]
    assert seen["approved"] == "APPROVED"
    assert seen["reacted"] == ["COMPLETED", 2]  # completed by the reaction, saved once
    assert seen["events"] == [
        ["TrainingCompleted", ids["by_hand"], ids["hr"]],
        ["DocumentApproved", ids["document"], ids["hr"]],
        ["TrainingCompleted", ids["training"], ids["hr"]],  # in the approval's transaction, after it
    ]

    contracts = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=copy, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert contracts.returncode == 0, contracts.stdout + contracts.stderr
    # Checked from its first line, though nobody listed it: an import of the document context fails.
    service = copy / "domains" / "training" / "service.py"
    service.write_text(service.read_text() + "\nfrom domains.document import model as _document  # noqa: E402\n")
    broken = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=copy, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert broken.returncode != 0
    assert "domains.training.service -> domains.document.model" in broken.stdout, broken.stdout
