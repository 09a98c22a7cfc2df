"""The export commands: ``request`` (HR of the person's company, or an ADMIN) records a pending
export, whose event the worker's queue takes; ``assemble`` (in the worker, as the system) reads
everything held about the person, writes the archive to the blob store, issues its short-lived
link and records it in the audit trail (``EXPORT_ISSUED``), in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from domains.kernel.audit import EXPORT_ISSUED, AuditEntry, AuditRecorder
from domains.kernel.errors import Forbidden, NotFound
from domains.kernel.principal import Principal
from domains.kernel.unit_of_work import Transactional
from domains.privacy.export import ARCHIVE_CONTENT_TYPE, ExportStatus, PersonDataExport, archive, may_export
from domains.privacy.ports import ArchiveStore, Clock, Dossiers, ExportStore, PersonalData

EXPORT_PREFIX = "exports"


def archive_key(export: PersonDataExport) -> str:
    return f"{EXPORT_PREFIX}/{export.company_id}/{export.id}.zip"


@dataclass(frozen=True)
class ExportSettings:
    link_lifetime: timedelta = timedelta(hours=1)


class ExportCommands:
    def __init__(
        self,
        exports: ExportStore,
        people: PersonalData,
        dossiers: Dossiers,
        files: ArchiveStore,
        clock: Clock,
        uow: Transactional,
        audit: AuditRecorder,
        settings: ExportSettings = ExportSettings(),
    ) -> None:
        self.exports = exports
        self.people = people
        self.dossiers = dossiers
        self.files = files
        self.clock = clock
        self.uow = uow
        self.audit = audit
        self.settings = settings

    async def request(self, actor: Principal, user_id: uuid.UUID) -> PersonDataExport:
        if not may_export(actor):  # before any look-up: nobody else learns who exists
            raise Forbidden("only HR or an ADMIN may export a person's data")
        async with self.uow.transaction():
            company = await self.people.company_of(user_id)
            if company is None or (not actor.is_admin and company != actor.company_id):
                raise NotFound("User", user_id)
            export = PersonDataExport.ask(actor, user_id, company)
            await self.exports.add(export)
            return export

    async def assemble(self, actor: Principal, id: uuid.UUID) -> PersonDataExport | None:
        """Idempotent: an export already READY (a retried job) is left as it is."""
        async with self.uow.transaction():
            export = await self.exports.visible(actor, id)
            if export is None or export.status is not ExportStatus.PENDING:
                return export
            dossier = await self.dossiers.dossier(export.subject_id)
            contents = {version: await self.files.read(version.object_key) for version in dossier.files()}
            data = archive(dossier, contents)
            key = archive_key(export)
            sha256 = await self.files.write(key, data, ARCHIVE_CONTENT_TYPE)
            now = self.clock.now()
            expires_at = now + self.settings.link_lifetime
            url = self.files.link(key, f"person-data-{export.subject_id}.zip", ARCHIVE_CONTENT_TYPE, sha256, expires_at)
            expected = export.version
            export.ready(key, len(data), sum(1 for b in contents.values() if b is not None), url, expires_at, now)
            await self.exports.save(export, expected)
            await self.audit.record(
                [
                    AuditEntry(
                        action=EXPORT_ISSUED,
                        entity="PersonDataExport",
                        entity_id=export.id,
                        company_id=export.company_id,
                        subject_id=export.subject_id,
                        on_behalf_of=export.requested_by,
                        changes={"archiveKey": key, "sizeBytes": len(data), "linkExpiresAt": expires_at.isoformat()},
                    )
                ]
            )
            return export
