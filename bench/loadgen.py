"""An async HTTP load generator for Invoke, signing requests the way the server needs.

    python -m bench.loadgen --endpoint http://127.0.0.1:9000 --function noop \
        --concurrency 10 --requests 5000 [--payload '{}']

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or --data-dir's
credentials file). Each request is signed with SigV4 (lambent.auth.sigv4, the code the
server verifies with). Prints requests/s and latency percentiles as JSON.

The load generator's own cyclic garbage collector is paused while it measures: this
process may hold boto3 (the benchmarks create functions with it), and a full collection of
that heap took 55-82 ms on a busy 2-core machine, which a client-side timer would have
counted as the server's latency (issue 8 §1.6). Reference counting frees what requests
allocate meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import contextlib
import gc
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

from bench.httpclient import Connection
from lambent.auth.sigv4 import sign_headers


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    p99_9_ms: float = float("nan")


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def summarize(concurrency: int, latencies: list[float], errors: int, seconds: float) -> LoadResult:
    ms = sorted(x * 1000 for x in latencies)
    return LoadResult(
        concurrency=concurrency,
        requests=len(ms),
        errors=errors,
        seconds=round(seconds, 3),
        per_second=round(len(ms) / seconds, 1) if seconds else 0.0,
        p50_ms=round(percentile(ms, 50), 3),
        p90_ms=round(percentile(ms, 90), 3),
        p99_ms=round(percentile(ms, 99), 3),
        max_ms=round(ms[-1], 3) if ms else float("nan"),
        p99_9_ms=round(percentile(ms, 99.9), 3),
    )


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    access_key: str
    secret: str
    region: str = "us-east-1"


def target_for(endpoint: str, function: str, access_key: str, secret: str) -> Target:
    parts = urlsplit(endpoint)
    path = f"/2015-03-31/functions/{quote(function, safe='')}/invocations"
    return Target(parts.hostname or "127.0.0.1", parts.port or 80, path, access_key, secret)


def signed(target: Target, body: bytes) -> dict[str, str]:
    headers = {"host": f"{target.host}:{target.port}", "content-type": "application/json"}
    return sign_headers(
        method="POST",
        url_path=target.path,
        query="",
        headers=headers,
        body=body,
        access_key=target.access_key,
        secret=target.secret,
        region=target.region,
        service="lambda",
    )


class Probe(Protocol):
    def sample(self) -> int: ...


async def _worker(
    target: Target,
    body: bytes,
    count: int,
    latencies: list[float],
    errors: list[int],
    probe: tuple[Probe, list[int]] | None = None,
) -> None:
    conn = await Connection.open(target.host, target.port)
    try:
        for _ in range(count):
            headers = signed(target, body)
            before = probe[0].sample() if probe else 0
            began = time.perf_counter()
            reply = await conn.request("POST", target.path, headers, body)
            latencies.append(time.perf_counter() - began)
            if probe:
                probe[1].append(probe[0].sample() - before)
            if reply.status != 200 or "x-amz-function-error" in reply.headers:
                errors.append(reply.status)
    finally:
        await conn.close()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection in this process while it times requests (see the module doc)."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


async def measure(
    target: Target,
    body: bytes,
    concurrency: int,
    requests: int,
    probe: tuple[Probe, list[int]] | None = None,
) -> tuple[list[float], int, float]:
    """Latencies (seconds), error count and elapsed seconds of `requests` requests; with a
    probe (concurrency 1), what its sample grew by across each request, in order."""
    latencies: list[float] = []
    errors: list[int] = []
    per = max(1, requests // concurrency)
    with collector_paused():
        began = time.perf_counter()
        await asyncio.gather(
            *(_worker(target, body, per, latencies, errors, probe) for _ in range(concurrency))
        )
        seconds = time.perf_counter() - began
    return latencies, len(errors), seconds


async def run_load(target: Target, body: bytes, concurrency: int, requests: int) -> LoadResult:
    latencies, errors, seconds = await measure(target, body, concurrency, requests)
    return summarize(concurrency, latencies, errors, seconds)


def credentials(data_dir: Path | None) -> tuple[str, str]:
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return key, secret
    if data_dir is not None:
        cp = configparser.ConfigParser()
        cp.read(data_dir / "credentials")
        return cp["default"]["aws_access_key_id"], cp["default"]["aws_secret_access_key"]
    raise SystemExit("no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --data-dir")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint", default="http://127.0.0.1:9000")
    p.add_argument("--function", required=True)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--payload", default="{}")
    p.add_argument("--data-dir", type=Path)
    args = p.parse_args()
    key, secret = credentials(args.data_dir)
    target = target_for(args.endpoint, args.function, key, secret)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run_load(target, args.payload.encode(), args.concurrency, args.requests))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
