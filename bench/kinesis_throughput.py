"""Kinesis PutRecords throughput on a real `lambent serve`, and GetRecords read-back.

    python -m bench.kinesis_throughput [--records 100000] [--clients 4] [--database URL]

Issue 10's target: PutRecords >= 10,000 records/s.

- *put*: C clients each send PutRecords of 500 records (100-byte Data, random partition
  keys, so every one of the 4 shards takes a share) back to back; every answer follows the
  durable commit;
- *get*: one client reads every shard from TRIM_HORIZON with GetRecords(Limit=10,000)
  until it is empty;
- the server's own CPU time per PutRecords call (from /proc).

Requests are signed (SigV4) as any SDK's. Prints a JSON document.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.support import start_server

from bench.json_client import KINESIS, JsonClient
from bench.loadgen import collector_paused
from bench.sqs_throughput import cpu_s

SHARDS = 4
BATCH = 500


async def open_client(endpoint: str, key: str, secret: str) -> JsonClient:
    return await JsonClient.open(endpoint, key, secret, KINESIS)


async def put_phase(endpoint: str, creds: tuple[str, str], total: int, clients: int) -> float:
    per = total // clients // BATCH
    data = base64.b64encode(b"x" * 100).decode()

    async def one() -> None:
        c = await open_client(endpoint, *creds)
        try:
            for _ in range(per):
                records = [{"Data": data, "PartitionKey": uuid.uuid4().hex} for _ in range(BATCH)]
                out = await c.call("PutRecords", {"StreamName": "bench", "Records": records})
                assert out["FailedRecordCount"] == 0
        finally:
            await c.close()

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return per * clients * BATCH / (time.perf_counter() - began)


async def get_phase(endpoint: str, creds: tuple[str, str]) -> tuple[float, int]:
    c = await open_client(endpoint, *creds)
    count = 0
    began = time.perf_counter()
    try:
        for shard in range(SHARDS):
            it = (
                await c.call(
                    "GetShardIterator",
                    {
                        "StreamName": "bench",
                        "ShardId": f"shardId-{shard:012d}",
                        "ShardIteratorType": "TRIM_HORIZON",
                    },
                )
            )["ShardIterator"]
            while True:
                out = await c.call("GetRecords", {"ShardIterator": it, "Limit": 10_000})
                if not out["Records"]:
                    break
                count += len(out["Records"])
                it = out["NextShardIterator"]
    finally:
        await c.close()
    return count / (time.perf_counter() - began), count


async def run(
    endpoint: str, creds: tuple[str, str], records: int, clients: int, pid: int
) -> dict[str, Any]:
    admin = await open_client(endpoint, *creds)
    await admin.call("CreateStream", {"StreamName": "bench", "ShardCount": SHARDS})
    await admin.close()
    with collector_paused():
        await put_phase(endpoint, creds, 5_000, clients)  # warm-up
        before = cpu_s(pid)
        rate = await put_phase(endpoint, creds, records, clients)
        put_cpu = cpu_s(pid) - before
        read_rate, read = await get_phase(endpoint, creds)
    return {
        "put_records_per_s": round(rate, 1),
        "server_cpu_ms_per_put_records_call": round(put_cpu * 1000 / (records / BATCH), 3),
        "get_records_per_s": round(read_rate, 1),
        "read_back": read,
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--database", help="run the server on this PostgreSQL URL (a schema's)")
    p.add_argument("--port", type=int, default=10400)
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="lambent-bench-kinesis-") as tmp:
        extra = ["--database", args.database] if args.database else []
        server = start_server(Path(tmp) / "data", extra_args=extra, port=args.port)
        try:
            result = asyncio.run(
                run(
                    server.endpoint,
                    server.credentials(),
                    args.records,
                    args.clients,
                    server.proc.pid,
                )
            )
        finally:
            server.stop()
    result.update(
        {
            "clients": args.clients,
            "records": args.records,
            "shards": SHARDS,
            "store": "postgresql" if args.database else "sqlite",
            "cpus": os.cpu_count(),
        }
    )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
