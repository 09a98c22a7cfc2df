"""User, declared once."""

from __future__ import annotations

from domains.kernel.entity import (
    Access,
    EntitySpec,
    Hook,
    HookEvent,
    NamedQuery,
    Reach,
    belongs_to,
    boolean,
    choice,
    has_many,
    not_blank,
    reference,
    string,
)
from domains.kernel.errors import Forbidden
from domains.kernel.principal import Principal, Role
from domains.kernel.query import Condition, Op, Order
from domains.user.model import User

EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def normalise_email(event: HookEvent[User]) -> None:
    event.entity.normalise_email()


def guard_role(event: HookEvent[User]) -> None:
    if event.previous is not None:
        event.entity.ensure_role_change_allowed(event.previous, event.principal)
    elif event.entity.role is Role.ADMIN and not event.principal.is_admin:
        raise Forbidden("only an administrator may make an administrator")


def guard_admin_removal(event: HookEvent[User]) -> None:
    if event.entity.role is Role.ADMIN and not event.principal.is_admin:
        raise Forbidden("only an administrator may remove an administrator")


def without_manager(_: Principal) -> Condition:
    return Condition("manager_id", Op.IS_NULL, True)


USER = EntitySpec(
    name="User",
    plural="users",
    model=User,
    table="users",
    description="A person at a company.",
    owner_field="id",
    fields=(
        reference("company_id", "Company", required=True, on_update=False),
        string(
            "email", required=True, max_length=254, pattern=EMAIL_PATTERN, unique_within="company_id", sortable=True
        ),
        string("full_name", required=True, max_length=200, sortable=True, validators=(not_blank,)),
        choice("role", Role, required=True, sortable=True),
        reference("manager_id", "User"),
        boolean(
            "legal_hold",
            on_create=False,
            updatable_by=frozenset({Role.HR, Role.ADMIN}),
            description="HR: while true, retention deletes none of the person's documents.",
        ),
    ),
    relations=(
        belongs_to("company", "Company", "company_id"),
        belongs_to("manager", "User", "manager_id"),
        has_many("reports", "User", "manager_id"),
        has_many("documents", "Document", "owner_id"),
        has_many("workflows", "Workflow", "subject_id"),
    ),
    access=Access(
        read={Role.EMPLOYEE: Reach.COMPANY, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        create={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        update={Role.EMPLOYEE: Reach.OWN, Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
        delete={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL},
    ),
    default_order=(Order("full_name"),),
    hooks={
        Hook.BEFORE_CREATE: [normalise_email, guard_role],
        Hook.BEFORE_UPDATE: [normalise_email, guard_role],
        Hook.BEFORE_DELETE: [guard_admin_removal],
    },
    queries=(
        NamedQuery(
            "users_without_manager",
            without_manager,
            description="People in your reach who have no manager yet.",
        ),
    ),
)
