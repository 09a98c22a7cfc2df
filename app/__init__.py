"""Composition root: settings, wiring, the Starlette app and the CLI. Nothing imports it."""
