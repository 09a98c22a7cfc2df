"""The server process's start and stop: the event feed starts with the app; at shutdown, after
uvicorn has closed the sockets, the feed and then the pool stop, within a bound. (The Lambda
entry runs without a lifespan: its environment is frozen, not shut down.)"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette

from app.jobs_http import job_parts
from app.wiring import Container


def lifespan(container: Container) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def running(_: Starlette) -> AsyncIterator[None]:
        await container.events.start()
        async with job_parts(container):  # the in-process worker of `serve --dev`
            yield
        await stop_parts(container)

    return running


async def stop_parts(container: Container) -> None:
    """After uvicorn has closed the sockets (1012) and drained: the feed, then the pool, bounded."""
    try:
        async with asyncio.timeout(max(1.0, container.settings.shutdown_timeout_seconds / 2)):
            await container.events.stop()
            await container.dispose()
    except TimeoutError:
        logging.getLogger("hrgraph").warning("shutdown: the event feed or the pool did not stop in time")
