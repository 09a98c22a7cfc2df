"""What every store's file responses say, so that a browser only ever saves a file."""

from __future__ import annotations

from urllib.parse import quote

# No sniffing another type out of the bytes, and nothing rendered from a file runs or loads
# anything, should a browser render it after all.
SAFE_FILE_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def attachment(file_name: str) -> str:
    """A Content-Disposition that survives any file name (RFC 6266 with an ASCII fallback)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"
