"""An accepted message survives SIGKILL of the server, and so does a deleted one's absence:
several threads send and delete while the server is killed; after a restart on the same
data (SQLite file, or the same PostgreSQL schema) every message whose SendMessageBatch was
answered is there, and none whose DeleteMessage was answered comes back."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tests.support import start_server

SENDERS = 4


def _drain(sqs: Any, url: str) -> set[str]:
    bodies: set[str] = set()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        if "Messages" not in got:
            return bodies
        bodies.update(m["Body"] for m in got["Messages"])


def test_accepted_and_deleted_messages_survive_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(data)
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="durable")["QueueUrl"]
        # Some messages deleted before the kill: their absence must survive it too.
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"gone-{i}"} for i in range(10)]
        )
        got: list[dict[str, Any]] = []
        while len(got) < 10:
            got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        accepted: list[str] = []
        lock = threading.Lock()
        enough = threading.Event()

        def send(worker: int) -> None:
            client = server.client("sqs")
            n = 0
            while True:
                bodies = [f"w{worker}-{n + i}" for i in range(10)]
                n += 10
                try:
                    out = client.send_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)],
                    )
                except (BotoCoreError, ClientError):
                    return  # the server died under this request: not answered, not counted
                with lock:
                    accepted.extend(bodies[int(e["Id"])] for e in out["Successful"])
                    if len(accepted) >= 400:
                        enough.set()

        threads = [threading.Thread(target=send, args=(w,)) for w in range(SENDERS)]
        for t in threads:
            t.start()
        assert enough.wait(120)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(30)
        for t in threads:
            t.join(60)
        with lock:
            answered = set(accepted)
    finally:
        server.stop()
    again = start_server(data)
    try:
        sqs = again.client("sqs")
        url = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
        found = _drain(sqs, url)
        assert answered <= found
        assert not any(body.startswith("gone-") for body in found)
    finally:
        again.stop()
