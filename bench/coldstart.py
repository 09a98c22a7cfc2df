"""Cold start: process start to the first answered request, on a migrated database.

    python -m bench.coldstart [--runs 5] [--server postgresql://postgres@127.0.0.1:5432/postgres]

Creates its own database on the server (default: TEST_DATABASE_URL, else the embedded
PostgreSQL under .data/ that `make run` uses), migrates it and loads the demo data (and drops
it at the end), then measures, each ``--runs`` times in a fresh process and with production
settings (no migration, no GraphiQL):

- ``serve``:  ``python -m app serve`` started → first ``{ me { email } }`` with a token answered;
- ``lambda``: ``python -c`` started → ``app.lambda_handler.handler`` answered the same query
  as an API Gateway v2 event (the Lambda init plus its first invocation);
- ``import app.http`` alone, and a bare interpreter for reference.

Prints the minimum and the median of each, as wall time and as the process's CPU time (user
plus system): on a shared machine the wall time grows with the others' load, the CPU time much
less, so compare CPU times between runs made at different moments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "coldstart-secret-" + secrets.token_hex(16)
QUERY = "{ me { email } }"
EMAIL = "hr@acme.example"

LAMBDA_PROGRAM = """
import json, sys
from app.lambda_handler import handler
event = json.loads(sys.argv[1])
response = handler(event, None)
sys.stdout.write(response["body"])
"""


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(_dsn(server))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _prepare(url: str) -> str:
    """Migrates and seeds the database; returns a token for the HR user."""
    from adapters.auth.tokens import TokenSettings, TokenVerifier
    from app.database import migrate_async
    from app.seed import seed_demo
    from app.settings import Settings
    from app.wiring import Container
    from domains.kernel.principal import Principal, Role

    await migrate_async(url)
    container = Container.build(Settings(app_env="test", database_url=url, _env_file=None), url)  # type: ignore[call-arg]
    try:
        await seed_demo(container)
        async with container.engine.connect() as conn:
            from sqlalchemy import text

            row = (await conn.execute(text("SELECT id, company_id FROM users WHERE email = :e"), {"e": EMAIL})).one()
    finally:
        await container.dispose()
    principal = Principal(row.id, row.company_id, frozenset({Role.HR}), EMAIL)
    return TokenVerifier(TokenSettings(secret=SECRET)).issue(principal)


def _env(url: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "JWKS_URL", "GRAPHIQL")}
    local_store = {"PUBLIC_URL": "http://127.0.0.1:8000"}  # the benchmark never follows a link
    return {
        **keep,
        **local_store,
        "APP_ENV": "production",
        "DATABASE_URL": url,
        "JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Sample = tuple[float, float]  # (wall seconds, CPU seconds)
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """User plus system CPU seconds of a live process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def serve_once(url: str, token: str, timeout: float = 30.0) -> Sample:
    port = _free_port()
    body = json.dumps({"query": QUERY}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=ROOT,
        env=_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    answer = json.loads(response.read())
                elapsed = time.perf_counter() - started
                cpu = _cpu_of(process.pid)
                break
            except (ConnectionError, urllib.error.URLError):
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited: {process.stderr.read().decode()}") from None  # type: ignore[union-attr]
                if time.perf_counter() - started > timeout:
                    raise RuntimeError("no answer within the timeout") from None
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait(timeout=20)
    if answer != {"data": {"me": {"email": EMAIL}}}:
        raise RuntimeError(f"unexpected answer: {answer}")
    return elapsed, cpu


def lambda_once(url: str, token: str) -> Sample:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/graphql",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "authorization": f"Bearer {token}"},
        "requestContext": {
            "http": {"method": "POST", "path": "/graphql", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"}
        },
        "body": json.dumps({"query": QUERY}),
        "isBase64Encoded": False,
    }
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", LAMBDA_PROGRAM, json.dumps(event)],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if json.loads(done.stdout) != {"data": {"me": {"email": EMAIL}}}:
        raise RuntimeError(f"unexpected answer: {done.stdout} {done.stderr}")
    return elapsed, cpu


def python_once(code: str) -> Sample:
    started, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def _line(name: str, samples: list[Sample]) -> str:
    wall, cpu = [s[0] for s in samples], [s[1] for s in samples]
    return f"{name:<28}{min(wall):>8.3f}{statistics.median(wall):>9.3f}{min(cpu):>10.3f}{statistics.median(cpu):>9.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coldstart", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--server",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="a PostgreSQL server to create the benchmark's database on"
        " (default: TEST_DATABASE_URL, else the embedded one under .data/, as `make run`)",
    )
    args = parser.parse_args(argv)

    from app.database import check_reachable, embedded_url
    from app.settings import Settings
    from app.startup import StartupError

    try:
        server = args.server or embedded_url(Settings().data_dir, "postgres")
        asyncio.run(check_reachable(server))
    except StartupError as error:
        print(f"bench.coldstart: {error} (here the server is --server, else TEST_DATABASE_URL)", file=sys.stderr)
        return 1
    name = f"hrgraph_coldstart_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = _dsn(server, name)
    try:
        token = asyncio.run(_prepare(url))
        # The bytecode, as the image has it (its Dockerfile runs compileall): with
        # PYTHONDONTWRITEBYTECODE set, as on some machines, every start would compile the project.
        compileall = [sys.executable, "-m", "compileall", "-q", "domains", "schema", "adapters", "app"]
        subprocess.run(compileall, cwd=ROOT, check=True)
        serve_once(url, token)  # warms the OS file cache, as a deployed image has it
        results = {
            "python -c pass": [python_once("pass") for _ in range(args.runs)],
            "python -c 'import app.http'": [python_once("import app.http") for _ in range(args.runs)],
            "serve: first answer": [serve_once(url, token) for _ in range(args.runs)],
        }
        if (ROOT / "app" / "lambda_handler.py").exists():  # absent in checkouts before it, for comparison
            results["lambda: first answer"] = [lambda_once(url, token) for _ in range(args.runs)]
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    print(f"cold start, {args.runs} runs each, seconds (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"{'':<28}{'wall min':>8}{'median':>9}{'CPU min':>10}{'median':>9}")
    for label, samples in results.items():
        print(_line(label, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
