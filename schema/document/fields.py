"""Fields the document domain adds to the generated ``Document`` type."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from domains.document.model import Document, DocumentCommand, DocumentFile
from domains.document.service import DocumentCommands
from domains.kernel.principal import Principal
from schema.context import Info
from schema.document.types import DocumentVersion


def commands(info: Info) -> DocumentCommands:
    return info.context.commands.document


class DocumentVersionsByKeyLoader(DataLoader[uuid.UUID, list[DocumentFile]]):
    """The files of every document on a page in one statement, newest first."""

    def __init__(self, commands: DocumentCommands) -> None:
        async def load(ids: Sequence[uuid.UUID]) -> list[list[DocumentFile]]:
            found = await commands.files.for_documents(ids)
            return [found[i] for i in ids]

        super().__init__(load_fn=load)


def versions_loader(info: Info) -> DocumentVersionsByKeyLoader:
    loader = info.context.loaders.custom(
        DocumentVersionsByKeyLoader, lambda: DocumentVersionsByKeyLoader(commands(info))
    )
    assert isinstance(loader, DocumentVersionsByKeyLoader)
    return loader


async def _files(root: Document, info: Info) -> list[DocumentFile]:
    if root.file_version == 0:
        return []  # nothing uploaded yet: no statement
    return await versions_loader(info).load(root.id)


async def versions(root: strawberry.Parent[Any], info: Info) -> list[DocumentVersion]:
    return [DocumentVersion.of(f) for f in await _files(root, info)]


class DownloadLinksLoader(DataLoader[Document, str | None]):
    """The download links of every document on a page, recorded in the audit trail together
    (one transaction for the page, not one per link)."""

    def __init__(self, commands: DocumentCommands, viewer: Principal, files: DocumentVersionsByKeyLoader) -> None:
        async def load(documents: Sequence[Document]) -> list[str | None]:
            found = await files.load_many([d.id for d in documents])
            return await commands.download_urls(viewer, list(zip(documents, found, strict=True)))

        super().__init__(load_fn=load, cache=False)


async def download_url(root: strawberry.Parent[Any], info: Info) -> str | None:
    if root.file_version == 0:
        return None  # nothing uploaded yet: no statement, no link
    viewer = info.context.viewer
    files = versions_loader(info)
    loader = info.context.loaders.custom(
        DownloadLinksLoader, lambda: DownloadLinksLoader(commands(info), viewer, files)
    )
    assert isinstance(loader, DownloadLinksLoader)
    result: str | None = await loader.load(root)
    return result


def available_transitions(root: strawberry.Parent[Any], info: Info) -> list[DocumentCommand]:
    return commands(info).available(info.context.viewer, root)


DOCUMENT_FIELDS: dict[str, Any] = {
    "versions": strawberry.field(resolver=versions, description="The uploaded files, newest first."),
    "download_url": strawberry.field(
        resolver=download_url,
        description="A short-lived link that downloads the latest file; null without a file or the right to read it.",
    ),
    "available_transitions": strawberry.field(
        resolver=available_transitions, description="The commands you may run on this document next."
    ),
}
