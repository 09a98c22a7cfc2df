"""Real parts for the blob stores: moto's standalone S3 server on a loopback port, and the app
served with either store. Imported by the test modules that need them."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.settings import Settings
from app.wiring import Container
from tests.conftest import LiveServer

REGION = "eu-central-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str

    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(
            update={
                "s3_bucket": self.bucket,
                "s3_endpoint_url": self.url,
                "aws_region": REGION,
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing",
            }
        )

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """moto's standalone server: a real HTTP S3 API (it does not enforce POST policies)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its state per process, not per server: each module's server gets its own bucket
    endpoint = S3Endpoint(f"http://127.0.0.1:{port}", f"hrgraph-test-{uuid.uuid4().hex[:12]}")
    endpoint.client().create_bucket(Bucket=endpoint.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    try:
        yield endpoint
    finally:
        server.stop()


def serve(settings: Settings, database_url: str) -> LiveServer:
    """The app on a port known before it is built, so that the local store's links point at it."""
    port = free_port()
    container = Container.build(settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"}), database_url)
    server = LiveServer(container)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.server.config.port = port
    return server
