"""ErasureRequest, declared once: read by HR (its company) and ADMIN; it moves only through
the commands in ``domains/privacy/service.py``."""

from __future__ import annotations

from domains.kernel.entity import Access, EntitySpec, Reach, belongs_to, choice, integer, reference, string, timestamp
from domains.kernel.principal import Role
from domains.privacy.export import ExportStatus, PersonDataExport
from domains.privacy.model import MAX_REASON_LENGTH, ErasureRequest, ErasureStatus

BY_COMMAND = {"on_create": False, "on_update": False}

ERASURE_REQUEST = EntitySpec(
    name="ErasureRequest",
    plural="erasureRequests",
    model=ErasureRequest,
    table="erasure_requests",
    description="A person's erasure: asked by HR, confirmed by a second HR or an ADMIN.",
    fields=(
        reference("company_id", "Company", required=True, **BY_COMMAND),
        reference("subject_id", "User", required=True, **BY_COMMAND),
        # Writable in the generic inputs' shape only: nobody may create or update one that way
        # (its access has no role for either); the commands set it.
        string("reason", required=True, max_length=MAX_REASON_LENGTH, filterable=False),
        reference("requested_by", "User", required=True, **BY_COMMAND),
        choice("status", ErasureStatus, required=True, sortable=True, **BY_COMMAND),
        reference("confirmed_by", "User", **BY_COMMAND),
        timestamp("confirmed_at", filterable=False, **BY_COMMAND),
        string("pseudonym", max_length=64, **BY_COMMAND),
        integer("files_deleted", filterable=False, **BY_COMMAND),
    ),
    relations=(belongs_to("company", "Company", "company_id"),),
    access=Access(read={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL}, create={}, update={}, delete={}, restore={}),
)


PERSON_DATA_EXPORT = EntitySpec(
    name="PersonDataExport",
    plural="personDataExports",
    model=PersonDataExport,
    table="person_data_exports",
    description="Everything held about a person in one archive: asked by HR or an ADMIN"
    " (exportPersonData), assembled by a worker; READY carries a short-lived download link.",
    fields=(
        reference("company_id", "Company", required=True, **BY_COMMAND),
        # Writable in the generic inputs' shape only, as ErasureRequest's reason: nobody may
        # create or update one that way (its access has no role for either); the commands do.
        reference("subject_id", "User", required=True),
        reference("requested_by", "User", required=True, **BY_COMMAND),
        choice("status", ExportStatus, required=True, sortable=True, **BY_COMMAND),
        string("archive_key", max_length=400, filterable=False, **BY_COMMAND),
        integer("size_bytes", filterable=False, **BY_COMMAND),
        integer("files", filterable=False, **BY_COMMAND),
        string("download_url", max_length=4000, filterable=False, **BY_COMMAND),
        timestamp("link_expires_at", filterable=False, **BY_COMMAND),
        timestamp("ready_at", filterable=False, **BY_COMMAND),
    ),
    relations=(belongs_to("company", "Company", "company_id"),),
    access=Access(read={Role.HR: Reach.COMPANY, Role.ADMIN: Reach.ALL}, create={}, update={}, delete={}, restore={}),
)

__all__ = ["ERASURE_REQUEST", "PERSON_DATA_EXPORT"]
