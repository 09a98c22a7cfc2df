"""Slow and silent clients against a real ``python -m app serve`` process, with one-second
deadlines: each is cut off within a few seconds (they stayed connected for as long as they
liked), and a client that is merely a little slow is still served."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.api.test_processes import ServerProcess

DEADLINE = 1.0
BOUND = 6.0  # a deadline of one second, on a loaded machine
MAX_HEADER_BYTES = 4096


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(
        database_url,
        HTTP_HEADER_TIMEOUT_SECONDS=str(DEADLINE),
        HTTP_BODY_TIMEOUT_SECONDS=str(DEADLINE),
        HTTP_KEEP_ALIVE_SECONDS=str(int(DEADLINE)),
        HTTP_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
    )
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BOUND)


def _until_closed(sock: socket.socket, trickle: bytes = b"", every: float = 0.2) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and how long that took; sends
    ``trickle`` every ``every`` seconds meanwhile, as a slow client would. Bounded by BOUND."""
    started = time.monotonic()
    received = b""
    while time.monotonic() - started < BOUND:
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                data = sock.recv(65_536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        elif trickle:
            try:
                sock.sendall(trickle)
            except (BrokenPipeError, ConnectionResetError):
                break
    else:
        raise AssertionError(f"still connected after {BOUND} s; received {received[:200]!r}")
    return received, time.monotonic() - started


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_connection_that_sends_nothing_is_closed(server: ServerProcess) -> None:
    with _connect(server) as sock:
        received, elapsed = _until_closed(sock)
    assert received == b"" and elapsed < BOUND


def test_headers_sent_a_byte_at_a_time_are_cut_off_with_408(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ")
        received, _ = _until_closed(sock, trickle=b"a")
    assert _status(received) == 408


def test_headers_over_the_size_cap_are_refused_with_431(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"b" * (2 * MAX_HEADER_BYTES))
        received, elapsed = _until_closed(sock)
    assert _status(received) == 431 and elapsed < DEADLINE  # at once, not at the deadline


def test_a_body_sent_a_byte_at_a_time_is_cut_off_with_408(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"query": '
        )
        received, _ = _until_closed(sock, trickle=b" ")
    head, _, body = received.partition(b"\r\n\r\n")
    assert _status(head) == 408 and b"connection: close" in head.lower()
    (error,) = json.loads(body)["errors"]
    assert error["extensions"] == {"code": "REQUEST_TIMEOUT", "limit": DEADLINE}


def test_an_idle_kept_alive_connection_is_closed(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        received, elapsed = _until_closed(sock)
    assert _status(received) == 200 and received.endswith(b'{"status":"ok"}')
    assert elapsed < 4 * DEADLINE  # uvicorn's own default is 5 s


def test_a_client_a_little_slow_is_served(server: ServerProcess) -> None:
    """Headers and body each in pieces, each within its deadline, on one kept-alive connection."""
    body = b'{"query": "{ __typename }"}'
    with _connect(server) as sock:
        for _ in range(2):  # the second request's deadlines are its own
            for piece in (b"POST /graphql HTTP/1.1\r\nHost: test\r\n", b"Content-Type: application/json\r\n"):
                sock.sendall(piece)
                time.sleep(DEADLINE / 4)
            sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            time.sleep(DEADLINE / 2)
            sock.sendall(body[10:])
            head, answer = _response(sock)
            assert _status(head) == 200 and json.loads(answer)["data"] == {"__typename": "Query"}


def _response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response with a Content-Length, read off a kept-alive connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        data = sock.recv(65_536)
        assert data, f"closed after {received!r}"
        received += data
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length:"))
    while len(body) < length:
        data = sock.recv(65_536)
        assert data, f"closed after {received!r}"
        body += data
    return head, body
