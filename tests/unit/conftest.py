"""A small two-tenant world in memory: Acme (admin, HR, two employees) and Globex (HR, one employee)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from domains.catalog import build_registry
from domains.company.model import Company
from domains.company.spec import COMPANY
from domains.document.model import Document, DocumentKind, DocumentStatus
from domains.document.spec import DOCUMENT
from domains.kernel.crud import EntityService
from domains.kernel.entity import EntitySpec, Registry
from domains.kernel.principal import Principal, Role
from domains.user.model import User
from domains.user.spec import USER
from domains.workflow.model import Workflow, WorkflowKind
from domains.workflow.spec import WORKFLOW
from tests.unit.fakes import FakeAfterCommit, FakeEntityStore


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, company_id=user.company_id, roles=frozenset({user.role}), email=user.email)


def make_company(name: str) -> Company:
    company = Company(name=name)
    company.derive_slug()
    return company


def make_user(company: Company, email: str, role: Role = Role.EMPLOYEE, **extra: Any) -> User:
    return User(company_id=company.id, email=email, full_name=email.split("@")[0].title(), role=role, **extra)


def make_document(owner: User, title: str, status: DocumentStatus = DocumentStatus.REQUESTED, **extra: Any) -> Document:
    return Document(
        company_id=owner.company_id, owner_id=owner.id, title=title, kind=DocumentKind.CONTRACT, status=status, **extra
    )


@dataclass
class World:
    registry: Registry
    store: FakeEntityStore
    after_commit: FakeAfterCommit
    acme: Company
    globex: Company
    admin: User
    hr: User
    alice: User
    bob: User
    globex_hr: User
    gus: User
    alice_doc: Document
    bob_doc: Document
    gus_doc: Document
    alice_onboarding: Workflow

    def service(self, spec: EntitySpec[Any], **options: Any) -> EntityService[Any]:
        return EntityService(spec, self.store, self.registry, self.after_commit, **options)

    @property
    def companies(self) -> EntityService[Company]:
        return self.service(COMPANY)

    @property
    def users(self) -> EntityService[User]:
        return self.service(USER)

    @property
    def documents(self) -> EntityService[Document]:
        return self.service(DOCUMENT)

    @property
    def workflows(self) -> EntityService[Workflow]:
        return self.service(WORKFLOW)

    def as_(self, user: User) -> Principal:
        return principal_of(user)


@pytest.fixture
def world() -> World:
    registry = build_registry()
    store = FakeEntityStore(registry)
    acme, globex = make_company("Acme"), make_company("Globex")
    admin = make_user(acme, "admin@acme.example", Role.ADMIN)
    hr = make_user(acme, "hr@acme.example", Role.HR)
    alice = make_user(acme, "alice@acme.example", manager_id=hr.id)
    bob = make_user(acme, "bob@acme.example")
    globex_hr = make_user(globex, "hr@globex.example", Role.HR)
    gus = make_user(globex, "gus@globex.example")
    alice_doc = make_document(alice, "Alice contract")
    bob_doc = make_document(bob, "Bob contract")
    gus_doc = make_document(gus, "Gus contract")
    onboarding = Workflow(company_id=acme.id, subject_id=alice.id, kind=WorkflowKind.ONBOARDING, title="Welcome")
    store.add(COMPANY, acme, globex)
    store.add(USER, admin, hr, alice, bob, globex_hr, gus)
    store.add(DOCUMENT, alice_doc, bob_doc, gus_doc)
    store.add(WORKFLOW, onboarding)
    return World(
        registry, store, FakeAfterCommit(), acme, globex, admin, hr, alice, bob, globex_hr, gus,
        alice_doc, bob_doc, gus_doc, onboarding,
    )  # fmt: skip
