"""Start-up failures an operator can fix, each reported as one line (what, which setting, how)."""

from __future__ import annotations

from app.settings import Settings


class StartupError(Exception):
    """Shown as one line on stderr; the process exits non-zero without a traceback."""


def require_settings(settings: Settings, *, serving: bool = True) -> None:
    """``serving=False`` for a command that only reaches the database (``migrate``)."""
    missing = settings.missing_for_production(serving=serving)
    if missing:
        listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
        raise StartupError(
            f"APP_ENV=production needs {listed}: set them in the environment (the Dockerfile lists them)"
        )
