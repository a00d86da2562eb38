"""The CLI's HTTP client over a real socket: signatures the verifier accepts, reconnects.

The peer is a minimal HTTP/1.1 responder that checks each request with the server's own
`sigv4.verify` and can drop a kept-alive connection without saying so, which is what a
restarted server looks like to a `lambent logs -f` that has been polling it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from lambent.auth import sigv4
from lambent.cli.client import AwsClient
from lambent.cli.config import ClientConfig, Credentials
from lambent.cli.errors import EndpointUnreachable

SECRET = "s3cr3t"


@dataclass
class Peer:
    sock: socket.socket
    drop_after_each: bool = False
    verified: list[bool] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while self._one(conn) and not self.drop_after_each:
                    pass

    def _one(self, conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, target, _ = lines[0].split(" ")
        headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        while len(body) < int(headers.get("content-length", "0")):
            body += conn.recv(65536)
        path, _, query = target.partition("?")
        auth = sigv4.parse_authorization(headers["authorization"])
        self.verified.append(
            sigv4.verify(auth, SECRET, method, path, query, headers, body, time.time())
        )
        reply = b'{"Functions": []}'
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(reply)}\r\n\r\n".encode()
            + reply
        )
        return True


@pytest.fixture
def peer() -> Iterator[Peer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    p = Peer(sock)
    threading.Thread(target=p.serve, daemon=True).start()
    yield p
    sock.close()


def client(url: str, secret: str = SECRET) -> AwsClient:
    return AwsClient(ClientConfig(url, "us-east-1", Credentials("AKIDEXAMPLE", secret, None, "t")))


def test_requests_are_signed_as_the_server_verifies(peer: Peer) -> None:
    with client(peer.url) as c:
        c.lambda_json("GET", "/2015-03-31/functions/", query={"MaxItems": 5, "Marker": "a b"})
        c.lambda_json("PUT", "/2015-03-31/functions/f%3A1/configuration", {"Timeout": 3})
        c.logs("FilterLogEvents", {"logGroupName": "/aws/lambda/f"})
    assert peer.verified == [True, True, True]
    assert peer.connections == 1  # one kept-alive connection for all three


def test_a_wrong_secret_does_not_verify(peer: Peer) -> None:
    with client(peer.url, secret="other") as c:
        c.lambda_json("GET", "/2015-03-31/functions/")
    assert peer.verified == [False]


def test_a_silently_dropped_connection_is_reopened(peer: Peer) -> None:
    peer.drop_after_each = True
    with client(peer.url) as c:
        for _ in range(3):
            assert c.lambda_json("GET", "/2015-03-31/functions/") == {"Functions": []}
    assert peer.verified == [True, True, True]
    assert peer.connections == 3


def test_progress_reports_every_chunk_up_to_the_total(peer: Peer) -> None:
    seen: list[tuple[int, int]] = []
    body = b"x" * 200_000
    with client(peer.url) as c:
        c.lambda_call(
            "POST", "/2015-03-31/functions", body=body, progress=lambda s, t: seen.append((s, t))
        )
    assert seen[-1] == (200_000, 200_000)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert peer.verified == [True]


def test_refused_and_malformed_endpoints() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(EndpointUnreachable, match="is `lambent serve` running at"):
        client(f"http://127.0.0.1:{port}").lambda_json("GET", "/")
    with pytest.raises(EndpointUnreachable, match="not an http"):
        client("ftp://x")
