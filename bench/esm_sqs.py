"""SQS -> Lambda through an event source mapping: delivery latency, drain rate, scale-up.

    python -m bench.esm_sqs [--latency 200] [--drain 20000] [--concurrency 50]
        [--handler-ms 10] [--sandbox auto|process|namespaces]

1. Latency: one message at a time (BatchSize 1, no batching window, the poller idle and
   long-polling), from the client's time just before SendMessage to the handler's first
   line (time.time() in the function; same host, same clock). p50/p90/max.
2. Drain: N messages queued while the mapping is disabled, then it is enabled with
   BatchSize 10, ScalingConfig.MaximumConcurrency C and a handler sleeping handler-ms per
   record. Reported: messages/s from the enable to the queue empty, beside the theoretical
   C / handler-ms (5,000/s for 50 and 10 ms), and scale-up: seconds from the enable until
   C handlers ran at once (seen from inside the functions by a loopback probe) and until
   the poller showed C lanes.

Prints a JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.integration.esm_probe import HANDLER, Probe
from tests.support import ServerProcess, http_get, lambda_role, start_server


def _function(server: ServerProcess, name: str, probe: Probe, sleep_s: float) -> None:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(server, name),
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
        MemorySize=128,
        Environment={"Variables": {"PROBE": probe.address, "SLEEP_S": str(sleep_s)}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attrs["Attributes"]["QueueArn"]


def _wait(check: Any, bound_s: float = 600.0) -> None:
    deadline = time.monotonic() + bound_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.002)


def latency(server: ServerProcess, count: int) -> dict[str, Any]:
    probe = Probe()
    sqs = server.client("sqs")
    _function(server, "lat", probe, 0.0)
    url, arn = _queue(sqs, "lat")
    server.client("lambda").create_event_source_mapping(
        FunctionName="lat", EventSourceArn=arn, BatchSize=1
    )
    samples: list[float] = []
    for i in range(count + 5):
        seen = len(probe.lines)
        sent = time.time()
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
        _wait(lambda seen=seen: len(probe.lines) > seen)
        if i >= 5:  # the first ones warm the environment
            samples.append((json.loads(probe.lines[-1])["start"] - sent) * 1000)
        time.sleep(0.05)  # the poller is idle (long-polling) when the next one comes
    probe.close()
    samples.sort()
    return {
        "messages": count,
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(len(samples) * 0.9)], 2),
        "max_ms": round(samples[-1], 2),
    }


def _lanes(server: ServerProcess, mapping: str) -> int:
    _, body = http_get(f"{server.endpoint}/_lambent/stats")
    return int(json.loads(body).get("mappings", {}).get(mapping, {}).get("lanes", 0))


def drain(server: ServerProcess, count: int, concurrency: int, handler_ms: float) -> dict[str, Any]:
    probe = Probe()
    sqs = server.client("sqs")
    _function(server, "drain", probe, handler_ms / 1000)
    url, arn = _queue(sqs, "drain")
    lam = server.client("lambda")
    mapping = lam.create_event_source_mapping(
        FunctionName="drain",
        EventSourceArn=arn,
        BatchSize=10,
        Enabled=False,
        ScalingConfig={"MaximumConcurrency": concurrency},
    )["UUID"]
    local = threading.local()

    def send(start: int) -> None:
        if not hasattr(local, "sqs"):
            local.sqs = server.client("sqs")
        local.sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)],
        )

    filled = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(0, count, 10)))
    fill_s = time.monotonic() - filled
    started = time.monotonic()
    lam.update_event_source_mapping(UUID=mapping, Enabled=True)
    full_probe: float | None = None
    full_lanes: float | None = None
    while len(probe.lines) < count:
        now = time.monotonic() - started
        if full_probe is None and probe.peak >= concurrency:
            full_probe = now
        if full_lanes is None and _lanes(server, mapping) >= concurrency:
            full_lanes = now
        if now > 900:
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    bodies = [json.loads(line)["body"] for line in probe.lines]
    probe.close()
    ideal = concurrency / (handler_ms / 1000)
    rate = count / elapsed
    return {
        "messages": count,
        "fill_s": round(fill_s, 2),
        "drain_s": round(elapsed, 2),
        "messages_per_s": round(rate),
        "theoretical_per_s": round(ideal),
        "fraction": round(rate / ideal, 3),
        "peak_concurrency_inside": probe.peak,
        "s_to_full_concurrency_inside": None if full_probe is None else round(full_probe, 2),
        "s_to_full_lanes": None if full_lanes is None else round(full_lanes, 2),
        "duplicates": len(bodies) - len(set(bodies)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--drain", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--handler-ms", type=float, default=10.0)
    ap.add_argument("--sandbox", default="auto")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), extra_args=["--sandbox", args.sandbox])
        try:
            out: dict[str, Any] = {"sandbox": args.sandbox}
            if args.latency:
                out["latency"] = latency(server, args.latency)
            if args.drain:
                out["drain"] = drain(server, args.drain, args.concurrency, args.handler_ms)
        finally:
            server.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
