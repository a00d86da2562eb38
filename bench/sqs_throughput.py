"""SQS throughput and latency on a real `lambent serve`, with the loopback floor in the
same run.

    python -m bench.sqs_throughput [--messages 20000] [--clients 8] [--database URL]

Issue 10's targets: send + receive + delete with batches of 10 at >= 10,000 messages/s
each way, and SendMessage p50 <= 1 ms.

- *send*: C clients each send SendMessageBatch of 10 back to back (every answer follows
  the durable commit) until M messages are in the queue;
- *receive+delete*: C clients each ReceiveMessage(MaxNumberOfMessages=10) then
  DeleteMessageBatch of what they got, until the queue is empty;
- *SendMessage latency*: one client, one message at a time, 2,000 sends;
- *floor*: the same client against a process that answers every request at once
  (bench/loopback.py): requests/s at C clients (x10 = the messages/s no server could
  pass with batches of 10 on this machine) and its p50 at one client.

Requests are signed (SigV4) by the client (bench/loadgen.py's signer) and verified by the
server, as with any SDK. Prints a JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support import start_server

from bench import loopback
from bench.httpclient import Connection
from bench.json_client import SQS, JsonClient
from bench.loadgen import collector_paused, percentile

REPO = Path(__file__).resolve().parent.parent


async def open_client(endpoint: str, key: str, secret: str) -> JsonClient:
    return await JsonClient.open(endpoint, key, secret, SQS)


async def send_phase(
    endpoint: str, creds: tuple[str, str], url: str, total: int, clients: int
) -> float:
    per = total // clients // 10

    async def one(n: int) -> None:
        c = await open_client(endpoint, *creds)
        try:
            for b in range(per):
                entries = [{"Id": str(i), "MessageBody": f"m-{n}-{b}-{i}" * 4} for i in range(10)]
                await c.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
        finally:
            await c.close()

    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(clients)))
    return per * clients * 10 / (time.perf_counter() - began)


async def drain_phase(
    endpoint: str, creds: tuple[str, str], url: str, clients: int
) -> tuple[float, int]:
    done = [0]

    async def one() -> None:
        c = await open_client(endpoint, *creds)
        try:
            while True:
                got = await c.call("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10})
                messages = got.get("Messages", [])
                if not messages:
                    return
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ]
                await c.call("DeleteMessageBatch", {"QueueUrl": url, "Entries": entries})
                done[0] += len(messages)
        finally:
            await c.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return done[0] / (time.perf_counter() - began), done[0]


async def send_latency(
    endpoint: str, creds: tuple[str, str], url: str, count: int
) -> dict[str, float]:
    c = await open_client(endpoint, *creds)
    times: list[float] = []
    try:
        for i in range(count):
            began = time.perf_counter()
            await c.call("SendMessage", {"QueueUrl": url, "MessageBody": f"latency {i}"})
            times.append(time.perf_counter() - began)
    finally:
        await c.close()
    ms = sorted(t * 1000 for t in times)
    return {"p50_ms": round(percentile(ms, 50), 3), "p99_ms": round(percentile(ms, 99), 3)}


async def floor(endpoint: str, clients: int, requests: int) -> dict[str, float]:
    async def one(count: int, times: list[float]) -> None:
        conn = await Connection.open(*endpoint.removeprefix("http://").split(":"))  # type: ignore[arg-type]
        try:
            for _ in range(count):
                began = time.perf_counter()
                await conn.request("POST", "/", {"host": "x"}, b"{}")
                times.append(time.perf_counter() - began)
        finally:
            await conn.close()

    times: list[float] = []
    began = time.perf_counter()
    await asyncio.gather(*(one(requests // clients, times) for _ in range(clients)))
    rate = len(times) / (time.perf_counter() - began)
    single: list[float] = []
    await one(2000, single)
    ms = sorted(t * 1000 for t in single)
    return {"requests_per_s": round(rate, 1), "p50_ms_one_client": round(percentile(ms, 50), 3)}


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    endpoint: str, creds: tuple[str, str], messages: int, clients: int, pid: int
) -> dict[str, Any]:
    admin = await open_client(endpoint, *creds)
    url = (await admin.call("CreateQueue", {"QueueName": "bench"}))["QueueUrl"]
    await admin.close()
    with collector_paused():
        await send_phase(endpoint, creds, url, 2000, clients)  # warm-up
        await drain_phase(endpoint, creds, url, clients)
        before = cpu_s(pid)
        sent = await send_phase(endpoint, creds, url, messages, clients)
        send_cpu = cpu_s(pid) - before
        before = cpu_s(pid)
        drained, count = await drain_phase(endpoint, creds, url, clients)
        drain_cpu = cpu_s(pid) - before
        latency = await send_latency(endpoint, creds, url, 2000)
    return {
        "send_messages_per_s": round(sent, 1),
        "receive_delete_messages_per_s": round(drained, 1),
        "drained": count,
        "send_message": latency,
        # The server's own CPU per request: what bounds the rate on a busy machine.
        "server_cpu_ms_per_send_batch": round(send_cpu * 1000 / (messages / 10), 3),
        "server_cpu_ms_per_receive_and_delete": round(drain_cpu * 1000 / (count / 10), 3),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--database", help="run the server on this PostgreSQL URL (a schema's)")
    p.add_argument("--port", type=int, default=10250)
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="lambent-bench-sqs-") as tmp:
        extra = ["--database", args.database] if args.database else []
        server = start_server(Path(tmp) / "data", extra_args=extra, port=args.port)
        try:
            creds = server.credentials()
            result = asyncio.run(
                run(server.endpoint, creds, args.messages, args.clients, server.proc.pid)
            )
        finally:
            server.stop()
    with loopback.running(args.port + 1) as endpoint:
        result["floor"] = asyncio.run(floor(endpoint, args.clients, 20000))
    result.update(
        {
            "clients": args.clients,
            "messages": args.messages,
            "store": "postgresql" if args.database else "sqlite",
            "cpus": os.cpu_count(),
        }
    )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
