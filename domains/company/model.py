from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from domains.kernel.entity import Entity


@dataclass(kw_only=True)
class Company(Entity):
    """A tenant: everything else belongs to exactly one company."""

    name: str
    slug: str = ""

    def derive_slug(self) -> None:
        ascii_name = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        self.slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "company"
