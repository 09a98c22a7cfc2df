"""Fixed demo data, loaded once into an empty database (never by the production image)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from adapters.auth.sign_in import SYSTEM
from adapters.sql.database import RequestDatabase
from app.wiring import Container
from domains.document.model import DocumentKind
from domains.kernel.principal import Role
from domains.workflow.model import WorkflowKind

log = logging.getLogger("hrgraph.seed")

COMPANIES = ("Acme Corp", "Globex")
USERS = (
    ("Acme Corp", "hr@acme.example", "Hannah Reed", Role.HR),
    ("Acme Corp", "alice@acme.example", "Alice Martin", Role.EMPLOYEE),
    ("Acme Corp", "bob@acme.example", "Bob Okafor", Role.EMPLOYEE),
    ("Acme Corp", "admin@acme.example", "Ada Admin", Role.ADMIN),
    ("Globex", "hr@globex.example", "Greta Holm", Role.HR),
    ("Globex", "carol@globex.example", "Carol Nguyen", Role.EMPLOYEE),
    ("Globex", "dave@globex.example", "Dave Silva", Role.EMPLOYEE),
)
DOCUMENTS = (
    ("alice@acme.example", "Employment contract", DocumentKind.CONTRACT, 7),
    ("alice@acme.example", "Passport copy", DocumentKind.ID, 3),
    ("bob@acme.example", "Tax form W-4", DocumentKind.TAX_FORM, 14),
    ("carol@globex.example", "Employment contract", DocumentKind.CONTRACT, 5),
    ("dave@globex.example", "First-aid certificate", DocumentKind.CERTIFICATE, 30),
)
WORKFLOWS = (
    ("alice@acme.example", WorkflowKind.ONBOARDING, "Alice's onboarding", 14),
    ("bob@acme.example", WorkflowKind.REVIEW, "Bob's annual review", 60),
    ("carol@globex.example", WorkflowKind.ONBOARDING, "Carol's onboarding", 21),
)


async def seed_demo(container: Container) -> bool:
    """Loads the demo data if there are no companies yet; says whether it did."""
    operation = container.operation(RequestDatabase(container.engine))
    services = operation.services
    if await services["Company"].count(SYSTEM):
        return False
    today = dt.date.today()
    async with operation.uow.transaction():
        companies: dict[str, Any] = {}
        for name in COMPANIES:
            companies[name] = await services["Company"].create(SYSTEM, {"name": name})
        users: dict[str, Any] = {}
        for company, email, full_name, role in USERS:
            users[email] = await services["User"].create(
                SYSTEM,
                {"company_id": companies[company].id, "email": email, "full_name": full_name, "role": role},
            )
        for email, title, kind, due_in in DOCUMENTS:
            owner = users[email]
            await services["Document"].create(
                SYSTEM,
                {
                    "company_id": owner.company_id,
                    "owner_id": owner.id,
                    "title": title,
                    "kind": kind,
                    "due_on": today + dt.timedelta(days=due_in),
                },
            )
        for email, workflow_kind, title, due_in in WORKFLOWS:
            subject = users[email]
            await services["Workflow"].create(
                SYSTEM,
                {
                    "company_id": subject.company_id,
                    "subject_id": subject.id,
                    "kind": workflow_kind,
                    "title": title,
                    "due_on": today + dt.timedelta(days=due_in),
                },
            )
    log.info("demo data loaded", extra={"companies": len(COMPANIES), "users": len(USERS)})
    return True
