"""A document a person hands in, its files and its review: the rules live on the entity.

The status moves only through commands: ``REQUESTED → UPLOADED → IN_REVIEW → APPROVED |
REJECTED``, and ``REJECTED → UPLOADED`` with a new file version; a document with a file
becomes ``EXPIRED`` on its ``expires_on`` (the expiry scan), and a renewal is requested. Any other move is an
``InvalidTransition``, whoever asks; a move that is allowed but not for this person is
``Forbidden``. Each move records its event on the document (``domains/document/events.py``);
the unit of work takes it once the document is saved.

Separation of duties: a review (approve, reject) is HR's of the document's company, or an
ADMIN's, and never its owner's: no one reviews a document she owns, whatever her role.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from domains.document.events import (
    DocumentApproved,
    DocumentEvent,
    DocumentExpired,
    DocumentRejected,
    DocumentSubmitted,
    DocumentUploaded,
)
from domains.document.kinds import DocumentKind as DocumentKind  # where the kinds are known by most
from domains.kernel.entity import Entity
from domains.kernel.errors import Forbidden, Invalid, InvalidTransition
from domains.kernel.principal import Principal, Role

if TYPE_CHECKING:
    from domains.document.analysis import Analysis

MB = 1024 * 1024
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"


class DocumentStatus(enum.Enum):
    REQUESTED = "REQUESTED"
    UPLOADED = "UPLOADED"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class DocumentCommand(enum.Enum):
    """What one may do with a document; ``availableTransitions`` lists those open to an actor."""

    REQUEST_UPLOAD = "REQUEST_UPLOAD"
    CONFIRM_UPLOAD = "CONFIRM_UPLOAD"
    SUBMIT = "SUBMIT"
    APPROVE = "APPROVE"
    REJECT = "REJECT"


S = DocumentStatus
TRANSITIONS: dict[DocumentStatus, frozenset[DocumentStatus]] = {
    S.REQUESTED: frozenset({S.UPLOADED}),
    S.UPLOADED: frozenset({S.IN_REVIEW, S.EXPIRED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED}),
    S.REJECTED: frozenset({S.UPLOADED, S.EXPIRED}),
    S.APPROVED: frozenset({S.EXPIRED}),
    S.EXPIRED: frozenset(),
}
# Only the expiry scan moves a document to EXPIRED (``Document.expire``), on its expiry date.
EXPIRES_FROM = (S.UPLOADED, S.IN_REVIEW, S.APPROVED, S.REJECTED)
AWAITING_REVIEW = (S.UPLOADED, S.IN_REVIEW)
ACCEPTS_UPLOAD = (S.REQUESTED, S.REJECTED)


@dataclass(frozen=True)
class KindRules:
    content_types: frozenset[str]
    max_bytes: int
    expires: bool = False
    """Its documents carry an expiry date: they expire on it and are requested again."""
    retention: timedelta | None = None
    """How long its documents are kept after their last change; then the worker's retention scan
    deletes their files and soft-deletes them (``domains/privacy/retention.py``). Users carry no
    employment end date, so the last change stands for it. None: kept until erased."""


KIND_RULES: dict[DocumentKind, KindRules] = {
    DocumentKind.CONTRACT: KindRules(frozenset({PDF}), 10 * MB),
    DocumentKind.ID: KindRules(frozenset({PDF, PNG, JPEG}), 5 * MB, expires=True, retention=timedelta(days=183)),
    DocumentKind.TAX_FORM: KindRules(frozenset({PDF}), 10 * MB, retention=timedelta(days=3653)),
    DocumentKind.CERTIFICATE: KindRules(frozenset({PDF, PNG, JPEG}), 10 * MB, expires=True),
    DocumentKind.OTHER: KindRules(frozenset({PDF, PNG, JPEG}), 10 * MB),
}

# An upload that began before its ticket expired may finish after: stored later than this past
# the expiry, an object did not come through its ticket (a store that does not enforce expiry).
LATE_UPLOAD_GRACE = timedelta(minutes=5)

# What a file of each type starts with; a file whose bytes do not match its type is refused.
MAGIC_BYTES: dict[str, bytes] = {PDF: b"%PDF-", PNG: b"\x89PNG\r\n\x1a\n", JPEG: b"\xff\xd8\xff"}

# The extensions a file of each type may download under, the first one given when it has none
# of them: a PDF/HTML polyglot named contract.html downloads as contract.pdf.
EXTENSIONS: dict[str, tuple[str, ...]] = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg")}
UNKNOWN_EXTENSION = ".bin"


@dataclass(frozen=True)
class DeclaredFile:
    """What the client says it will upload; checked against the kind before a ticket is issued."""

    file_name: str
    content_type: str
    size_bytes: int


@dataclass(frozen=True)
class StoredFile:
    """What the blob store holds at a key: measured, never taken from the client."""

    size_bytes: int
    content_type: str
    sha256: str
    head: bytes
    stored_at: datetime


@dataclass(frozen=True)
class DocumentFile:
    """One uploaded file of a document (a row of ``document_versions``)."""

    document_id: uuid.UUID
    version: int
    object_key: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: uuid.UUID
    analysis: Analysis | None = None
    """What its analysis read (a job after the confirm); None until it ran."""


def object_key(company_id: uuid.UUID, owner_id: uuid.UUID, document_id: uuid.UUID, version: int) -> str:
    """Where a file lives: by company, owner, document and version; never the client's file name.
    A confirmed file's key is this with a suffix of its own (``Document.sealed_key``)."""
    return f"{company_id}/{owner_id}/{document_id}/v{version}"


UPLOAD_PREFIX = "uploads"


def upload_key(
    company_id: uuid.UUID, owner_id: uuid.UUID, document_id: uuid.UUID, version: int, expires_at: datetime
) -> str:
    """Where one ticket uploads: under ``uploads/``, never a confirmed file's key, and its own.

    A ticket is known by its expiry instant (each ticket of a document is saved at a new entity
    version, with a later expiry), so the key needs no column: a new ticket never meets an
    earlier ticket's object, and an earlier ticket cannot write where the new one confirms.
    """
    stamp = expires_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{UPLOAD_PREFIX}/{object_key(company_id, owner_id, document_id, version)}-{stamp}"


def download_name(file_name: str, content_type: str) -> str:
    """The name a file downloads as: the uploader's, with an extension of the type it is stored
    as (replacing another one), so that nothing opens the file as a type it was not checked as."""
    extensions = EXTENSIONS.get(content_type, (UNKNOWN_EXTENSION,))
    stem, dot, suffix = file_name.rpartition(".")
    if not (dot and stem):  # no extension (or only a leading dot)
        return file_name + extensions[0]
    return file_name if f".{suffix}".lower() in extensions else stem + extensions[0]


@dataclass(kw_only=True)
class Document(Entity):
    """A document a person must hand in, and where it stands in its review."""

    company_id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    kind: DocumentKind
    status: DocumentStatus = DocumentStatus.REQUESTED
    due_on: date | None = None
    note: str | None = None
    file_version: int = 0
    pending_file_name: str | None = None
    pending_content_type: str | None = None
    pending_size_bytes: int | None = None
    pending_expires_at: datetime | None = None
    rejection_reason: str | None = None
    expires_on: date | None = None
    renews_id: uuid.UUID | None = None

    # ---- who ---------------------------------------------------------------------------

    def is_reviewer(self, actor: Principal) -> bool:
        """HR of the document's company, or ADMIN: who may act on it as HR (upload, submit)."""
        return actor.is_admin or (Role.HR in actor.roles and actor.company_id == self.company_id)

    def is_owner(self, actor: Principal) -> bool:
        return actor.user_id == self.owner_id

    def may_review(self, actor: Principal) -> bool:
        """Approve or reject: a reviewer who is not the owner (separation of duties)."""
        return self.is_reviewer(actor) and not self.is_owner(actor)

    def is_owner_or_reviewer(self, actor: Principal) -> bool:
        return (actor.user_id == self.owner_id and actor.company_id == self.company_id) or self.is_reviewer(actor)

    def frozen_because(self) -> str | None:
        if self.status is S.EXPIRED:
            return "an expired document cannot be edited: its renewal can"
        return "an approved document cannot be edited" if self.status is S.APPROVED else None

    # ---- the state machine -------------------------------------------------------------

    def can_become(self, target: DocumentStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def _move(self, target: DocumentStatus, allowed: bool = True, who: str = "") -> DocumentStatus:
        """Checks the move, then the person: an impossible move is refused whoever asks."""
        if not self.can_become(target):
            raise InvalidTransition("Document", self.status.value, target.value)
        if not allowed:
            raise Forbidden(f"only {who} may do this")
        previous, self.status = self.status, target
        return previous

    @property
    def pending(self) -> DeclaredFile | None:
        if self.pending_file_name is None or self.pending_content_type is None or self.pending_size_bytes is None:
            return None
        return DeclaredFile(self.pending_file_name, self.pending_content_type, self.pending_size_bytes)

    @property
    def upload_key(self) -> str | None:
        """Where the pending ticket uploads (``upload_key``), or None without one."""
        if self.pending_expires_at is None:
            return None
        return upload_key(self.company_id, self.owner_id, self.id, self.file_version + 1, self.pending_expires_at)

    def sealed_key(self, suffix: str) -> str:
        """Where a confirm puts the next file version: a key no ticket names, with a suffix of
        the confirm's own, so that two confirms at once never write the same object."""
        return f"{object_key(self.company_id, self.owner_id, self.id, self.file_version + 1)}-{suffix}"

    def request_upload(self, declared: DeclaredFile, actor: Principal, expires_at: datetime) -> None:
        """A ticket for the next file version; the status moves only when the upload is confirmed."""
        if self.status not in ACCEPTS_UPLOAD:
            raise InvalidTransition("Document", self.status.value, S.UPLOADED.value)
        if not self.is_owner_or_reviewer(actor):
            raise Forbidden("only the document's owner or HR may upload its file")
        check_declared(self.kind, declared)
        self.pending_file_name = declared.file_name
        self.pending_content_type = declared.content_type
        self.pending_size_bytes = declared.size_bytes
        self.pending_expires_at = expires_at

    def is_confirmed(self) -> bool:
        """Confirming again after a confirm changes nothing and answers the same."""
        return self.pending is None and self.file_version > 0 and self.status not in ACCEPTS_UPLOAD

    def check_confirm(self, actor: Principal) -> DeclaredFile:
        """May ``by`` confirm now? Asked before the store copies anything; returns what was declared."""
        declared = self.pending
        if declared is None or self.status not in ACCEPTS_UPLOAD:
            raise InvalidTransition("Document", self.status.value, S.UPLOADED.value)
        if not self.is_owner_or_reviewer(actor):
            raise Forbidden("only the document's owner or HR may confirm its upload")
        return declared

    def confirm_upload(self, stored: StoredFile | None, key: str, actor: Principal, at: datetime) -> DocumentFile:
        """The object the store sealed at ``key`` (from the ticket's upload) must be what the
        ticket allowed; then it becomes the next version, and only it is ever served."""
        declared = self.check_confirm(actor)
        check_stored(self.kind, declared, stored, self.pending_expires_at)
        assert stored is not None
        file = DocumentFile(
            document_id=self.id,
            version=self.file_version + 1,
            object_key=key,
            file_name=declared.file_name,
            content_type=stored.content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
            uploaded_at=at,
            uploaded_by=actor.user_id,
        )
        previous = self._move(S.UPLOADED)
        self.file_version = file.version
        self.pending_file_name = self.pending_content_type = self.pending_size_bytes = None
        self.pending_expires_at = None
        self.rejection_reason = None  # the new file answers it
        self._record(DocumentUploaded, previous, actor, at)
        return file

    def submit(self, actor: Principal, at: datetime) -> None:
        previous = self._move(S.IN_REVIEW, self.is_owner_or_reviewer(actor), "the document's owner or HR")
        self._record(DocumentSubmitted, previous, actor, at)

    def _review(self, target: DocumentStatus, actor: Principal) -> DocumentStatus:
        """As ``_move`` (an impossible move first), with its own answer for an owner who is HR."""
        if self.can_become(target) and self.is_reviewer(actor) and self.is_owner(actor):
            raise Forbidden(
                "no one reviews a document she owns: another HR of the company (or an ADMIN) must approve or reject it"
            )
        return self._move(target, self.may_review(actor), "HR of the document's company")

    def approve(self, actor: Principal, at: datetime) -> None:
        previous = self._review(S.APPROVED, actor)
        self._record(DocumentApproved, previous, actor, at)

    def reject(self, reason: str, actor: Principal, at: datetime) -> None:
        reason = reason.strip()
        if not reason:
            raise Invalid.field("reason", "must not be blank")
        if len(reason) > 2000:
            raise Invalid.field("reason", "must be at most 2000 characters")
        previous = self._review(S.REJECTED, actor)
        self.rejection_reason = reason
        self._record(DocumentRejected, previous, actor, at, reason=reason)

    # ---- expiry ------------------------------------------------------------------------

    def accept_expiry(self, expires_on: date, actor: Principal) -> None:
        """HR takes an extracted expiry date as the document's (the analysis only advises)."""
        if self.status is S.EXPIRED:
            raise InvalidTransition("Document", self.status.value, self.status.value)
        if not self.is_reviewer(actor):
            raise Forbidden("only HR of the document's company may accept what its analysis read")
        if not KIND_RULES[self.kind].expires:
            raise Invalid.field("field", f"a {self.kind.value} does not expire")
        self.expires_on = expires_on

    def is_due_to_expire(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on <= today and self.status in EXPIRES_FROM

    def expire(self, actor: Principal, at: datetime) -> None:
        """On its expiry date (or after): EXPIRED, with its event; the renewal is the command's."""
        if self.expires_on is None or self.expires_on > at.date():
            raise Invalid.field("expires_on", "the document has not reached its expiry date")
        previous = self._move(S.EXPIRED, self.is_reviewer(actor), "HR of the document's company")
        self._record(DocumentExpired, previous, actor, at)

    def available_commands(self, actor: Principal) -> list[DocumentCommand]:
        """The commands this person may run next, in the order of the review."""
        owner_or_hr, reviewer = self.is_owner_or_reviewer(actor), self.may_review(actor)
        open_: list[DocumentCommand] = []
        if self.status in ACCEPTS_UPLOAD and owner_or_hr:
            open_.append(DocumentCommand.REQUEST_UPLOAD)
            if self.pending is not None:
                open_.append(DocumentCommand.CONFIRM_UPLOAD)
        if self.can_become(S.IN_REVIEW) and owner_or_hr:
            open_.append(DocumentCommand.SUBMIT)
        if self.can_become(S.APPROVED) and reviewer:
            open_.extend((DocumentCommand.APPROVE, DocumentCommand.REJECT))
        return open_

    def _record(
        self,
        event: type[DocumentEvent],
        previous: DocumentStatus,
        actor: Principal,
        at: datetime,
        *,
        reason: str | None = None,
    ) -> None:
        self.record_event(
            event(
                document_id=self.id,
                owner_id=self.owner_id,
                company_id=self.company_id,
                kind=self.kind.value,
                status=self.status.value,
                previous_status=previous.value,
                actor_id=actor.user_id,
                occurred_at=at,
                reason=reason,
                file_version=self.file_version,
            )
        )


def check_declared(kind: DocumentKind, declared: DeclaredFile) -> None:
    rules = KIND_RULES[kind]
    problems: dict[tuple[str, ...], list[str]] = {}
    name = declared.file_name.strip()
    if not name or len(name) > 255 or any(c in name for c in "/\\\0\r\n"):
        problems[("file_name",)] = ["must be a plain file name of at most 255 characters"]
    if declared.content_type not in rules.content_types:
        allowed = ", ".join(sorted(rules.content_types))
        problems[("content_type",)] = [f"a {kind.value} must be one of {allowed}"]
    if not 0 < declared.size_bytes <= rules.max_bytes:
        problems[("size_bytes",)] = [f"a {kind.value} must be between 1 and {rules.max_bytes} bytes"]
    if problems:
        raise Invalid(problems)


def check_stored(
    kind: DocumentKind, declared: DeclaredFile, stored: StoredFile | None, expires_at: datetime | None
) -> None:
    """The object a ticket allowed, re-checked: a store that does not enforce the policy (or a
    client that went around it) must not get a file past confirm."""
    if stored is None:
        raise Invalid.field("file", "no uploaded file was found: upload it with the ticket first")
    problems: list[str] = []
    if stored.size_bytes == 0:
        problems.append("is empty")
    elif stored.size_bytes > min(declared.size_bytes, KIND_RULES[kind].max_bytes):
        problems.append(f"is {stored.size_bytes} bytes, more than the {declared.size_bytes} declared")
    if stored.content_type != declared.content_type:
        problems.append(f"is stored as {stored.content_type}, not the declared {declared.content_type}")
    magic = MAGIC_BYTES.get(declared.content_type)
    if magic is not None and not stored.head.startswith(magic):
        problems.append(f"does not look like {declared.content_type}")
    if expires_at is not None and stored.stored_at > expires_at + LATE_UPLOAD_GRACE:
        problems.append("was stored after its upload ticket expired")
    if problems:
        raise Invalid({("file",): problems})
