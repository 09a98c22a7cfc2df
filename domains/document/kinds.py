"""The kinds of document a person hands in: what the entity, its declaration and the
analysis of its files all speak of."""

from __future__ import annotations

import enum


class DocumentKind(enum.Enum):
    CONTRACT = "CONTRACT"
    ID = "ID"
    TAX_FORM = "TAX_FORM"
    CERTIFICATE = "CERTIFICATE"
    OTHER = "OTHER"
