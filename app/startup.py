"""Start-up failures an operator can fix, each reported as one line (what, which setting, how)."""

from __future__ import annotations

from app.settings import Settings


class StartupError(Exception):
    """Shown as one line on stderr; the process exits non-zero without a traceback."""


def require_settings(settings: Settings) -> None:
    missing = settings.missing_for_production()
    if missing:
        raise StartupError(
            f"APP_ENV=production needs {' and '.join(missing)}: set them in the environment (the Dockerfile lists them)"
        )
