"""Company, declared once. ``schema/`` and ``adapters/sql`` derive everything else from this."""

from __future__ import annotations

from domains.company.model import Company
from domains.kernel.entity import (
    Access,
    EntitySpec,
    Hook,
    HookEvent,
    Reach,
    has_many,
    string,
)
from domains.kernel.principal import Role
from domains.kernel.query import Order


def derive_slug(event: HookEvent[Company]) -> None:
    event.entity.derive_slug()


COMPANY = EntitySpec(
    name="Company",
    plural="companies",
    model=Company,
    table="companies",
    description="A customer organisation; the unit of tenancy.",
    tenant_field="id",
    fields=(
        # Names are free: two companies may share one, and no answer tells that another has it.
        string("name", required=True, min_length=2, max_length=200, sortable=True),
        string(
            "slug",
            required=True,
            unique=True,
            suffix_when_taken=True,
            on_create=False,
            on_update=False,
            sortable=True,
            max_length=200,
            description="Chosen once from the name at creation (with a suffix when taken); a rename keeps it.",
        ),
    ),
    relations=(
        has_many("users", "User", "company_id"),
        has_many("documents", "Document", "company_id"),
        has_many("workflows", "Workflow", "company_id"),
    ),
    access=Access(
        read={Role.EMPLOYEE: Reach.COMPANY, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.ADMIN: Reach.ALL},
        update={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.ADMIN: Reach.ALL},
    ),
    default_order=(Order("name"),),
    hooks={Hook.BEFORE_CREATE: [derive_slug]},
)
