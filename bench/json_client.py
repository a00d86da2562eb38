"""A signed client for AWS's JSON protocol on one keep-alive connection (SQS, Kinesis, ...),
shared by the throughput benches so the client's cost is the same for every service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bench.httpclient import Connection
from lambent.auth.sigv4 import sign_headers


@dataclass(frozen=True)
class JsonProtocol:
    service: str  # the SigV4 service name
    target_prefix: str  # X-Amz-Target is PREFIX.Operation
    content_type: str  # application/x-amz-json-1.0 or -1.1


SQS = JsonProtocol("sqs", "AmazonSQS", "application/x-amz-json-1.0")
KINESIS = JsonProtocol("kinesis", "Kinesis_20131202", "application/x-amz-json-1.1")


class JsonClient:
    """One keep-alive connection speaking a JSON protocol, signing every request."""

    def __init__(
        self, conn: Connection, host: str, key: str, secret: str, protocol: JsonProtocol
    ) -> None:
        self._conn, self._host, self._key, self._secret = conn, host, key, secret
        self._protocol = protocol

    @classmethod
    async def open(cls, endpoint: str, key: str, secret: str, protocol: JsonProtocol) -> JsonClient:
        host, port = endpoint.removeprefix("http://").split(":")
        conn = await Connection.open(host, int(port))
        return cls(conn, f"{host}:{port}", key, secret, protocol)

    async def call(self, operation: str, doc: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(doc).encode()
        headers = sign_headers(
            method="POST",
            url_path="/",
            query="",
            headers={
                "host": self._host,
                "content-type": self._protocol.content_type,
                "x-amz-target": f"{self._protocol.target_prefix}.{operation}",
            },
            body=body,
            access_key=self._key,
            secret=self._secret,
            region="us-east-1",
            service=self._protocol.service,
        )
        reply = await self._conn.request("POST", "/", headers, body)
        if reply.status != 200:
            raise RuntimeError(f"{operation}: {reply.status} {reply.body[:200]!r}")
        return json.loads(reply.body) if reply.body else {}

    async def close(self) -> None:
        await self._conn.close()
