"""Fixed demo data, loaded once into an empty database (never by the production image)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from adapters.auth.sign_in import SYSTEM
from adapters.sql.database import RequestDatabase
from app.wiring import Container
from domains.document.model import DocumentKind
from domains.kernel.principal import Principal, Role
from domains.workflow.model import StepKind, WorkflowKind
from domains.workflow.plan import DueFrom

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

# The two templates every demo company starts with: data HR may edit and publish again, not
# code. (code, title, kind, steps: key, title, document kind, days before the workflow's due date)
TEMPLATES = (
    (
        "EMPLOYEE_ONBOARDING",
        "Employee onboarding",
        WorkflowKind.ONBOARDING,
        (
            ("id", "Identity document", "ID", 14),
            ("contract", "Signed employment contract", "CONTRACT", 7),
            ("tax-form", "Tax form", "TAX_FORM", 0),
        ),
    ),
    (
        "OFFBOARDING",
        "Offboarding",
        WorkflowKind.OFFBOARDING,
        (
            ("equipment", "Equipment return form", "OTHER", 3),
            ("final-tax", "Final tax statement", "TAX_FORM", 0),
        ),
    ),
)


async def seed_templates(container: Container, publishers: list[Principal]) -> None:
    """The built-in templates for each publisher's company, published by her (version 1)."""
    for publisher in publishers:
        company_id = publisher.company_id
        operation = container.operation(RequestDatabase(container.engine))
        services = operation.services
        published = []
        async with operation.uow.transaction():
            for code, title, kind, steps in TEMPLATES:
                template = await services["WorkflowTemplate"].create(
                    SYSTEM, {"company_id": company_id, "code": code, "title": title, "kind": kind}
                )
                for position, (key, step_title, document_kind, days_before) in enumerate(steps):
                    await services["WorkflowTemplateStep"].create(
                        SYSTEM,
                        {
                            "company_id": company_id,
                            "template_id": template.id,
                            "key": key,
                            "title": step_title,
                            "kind": StepKind.DOCUMENT,
                            "position": position,
                            "document_kind": document_kind,
                            "due_from": DueFrom.DUE,
                            "due_offset_days": -days_before,
                        },
                    )
                published.append(template)
        for template in published:
            await operation.commands.workflow.publish_template(publisher, template.id, template.version)


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
    hr = {u.company_id: u for u in users.values() if u.role is Role.HR}
    await seed_templates(
        container,
        [Principal(user_id=u.id, company_id=u.company_id, roles=frozenset({Role.HR})) for u in hr.values()],
    )
    log.info("demo data loaded", extra={"companies": len(COMPANIES), "users": len(USERS)})
    return True
