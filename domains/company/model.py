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
        """From the name, once, at creation; the service makes it unique (``suffix_when_taken``)
        and it stays when the company is renamed: a rename must not show whose slug is whose."""
        ascii_name = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_BASE_LENGTH].strip("-")
        self.slug = slug or "company"


# A slug's column holds 200 characters: room for the suffix the service may add ("-a1b2c3d4").
SLUG_BASE_LENGTH = 190
