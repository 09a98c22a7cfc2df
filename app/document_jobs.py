"""The document work of a worker, through the document commands: the analysis of each new
file version (after ``DocumentUploaded``) and the expiry scan. It acts as the system.

The analyzer is built on its first file: the OCR engine, onnxruntime and OpenCV load in
workers only, never in a process that serves requests (``tests/startup``)."""

from __future__ import annotations

import uuid

from adapters.auth.sign_in import SYSTEM
from app.settings import Settings
from app.wiring import Operation
from app.worker_parts import WorkerContainer
from domains.document.analysis import DocumentAnalyzer


def build_analyzer(settings: Settings) -> DocumentAnalyzer | None:
    if settings.analyzer == "off":
        return None
    if settings.analyzer == "textract":
        from adapters.analysis.textract import TextractAnalyzer, TextractSettings

        return TextractAnalyzer(
            TextractSettings(
                region=settings.aws_region,
                endpoint_url=settings.textract_endpoint_url,
                access_key_id=settings.aws_access_key_id,
                secret_access_key=settings.aws_secret_access_key,
            )
        )
    from adapters.analysis.embedded import EmbeddedAnalyzer

    return EmbeddedAnalyzer()


class WorkerDocuments:
    """``adapters.jobs.queue.DocumentJobs`` on a container of the worker's own event loop."""

    def __init__(self, settings: Settings, parts: WorkerContainer) -> None:
        self.settings = settings
        self.parts = parts
        self._analyzer: DocumentAnalyzer | None = None

    async def _operation(self) -> Operation:
        return await self.parts.operation()

    @property
    def analyzer(self) -> DocumentAnalyzer | None:
        if self._analyzer is None:
            self._analyzer = build_analyzer(self.settings)
        return self._analyzer

    async def analyze(self, document_id: str, file_version: int) -> None:
        analyzer = self.analyzer
        if analyzer is None:
            return
        operation = await self._operation()
        users = operation.services["User"]

        async def owner_name(user_id: uuid.UUID) -> str | None:
            user = await users.get(SYSTEM, user_id)
            return None if user is None else str(user.full_name)

        await operation.commands.document.analyze(SYSTEM, uuid.UUID(document_id), file_version, analyzer, owner_name)

    async def expire_due(self) -> int:
        operation = await self._operation()
        return len(await operation.commands.document.expire_due(SYSTEM))

    async def close(self) -> None:
        await self.parts.close()
