"""``python -m app audit verify``: walks the audit trail's hash chain from its first entry and
names the first one that does not follow (exit 1), else says how many entries hold (exit 0)."""

from __future__ import annotations

import sys

from adapters.sql.audit import all_entries, head
from adapters.sql.database import create_engine
from domains.audit.chain import ChainWalk, Verdict


async def verify_trail(url: str) -> Verdict:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            # One snapshot for the walk and the head: appends meanwhile are simply not seen.
            await connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            walk = ChainWalk()
            async for entry in all_entries(connection):
                if not walk.step(entry):
                    break
            return walk.finish(await head(connection))
    finally:
        await engine.dispose()


def report(verdict: Verdict) -> int:
    if verdict.broken is None:
        print(f"audit trail intact: {verdict.checked} entries, every hash follows")
        return 0
    print(
        f"audit trail broken at entry {verdict.broken.seq}: {verdict.broken.reason}"
        f" ({verdict.checked} entries before it hold)",
        file=sys.stderr,
    )
    return 1
