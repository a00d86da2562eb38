"""EventBridge: PutEvents -> Lambda handler start latency, and sustained PutEvents/s.

    python -m bench.eventbridge [--latency 100] [--seconds 10] [--threads 8]
        [--sandbox auto|process|namespaces] [--database URL]

1. Latency: one PutEvents at a time (one entry, one rule, one Lambda target), from the
   client's time just before PutEvents to the handler's first line (time.time() in the
   function, reported to a loopback probe; same host, same clock). p50/p90/max.
2. Throughput: 10 rules on the default bus (each matching a tenth of the events by
   `detail.kind`, plus one matching all), 3 Lambda targets on the catch-all rule;
   `threads` clients each sending PutEvents of 10 entries for `seconds`. Reported:
   accepted events/s, and the seconds until every accepted event started its 3 handlers
   (the dispatcher and async queue keeping up).

Prints a JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, lambda_role, start_server

HANDLER = """
import json, os, socket, time
NS = "host.lambent.internal"
HOST = NS if NS in open("/etc/hosts").read() else "127.0.0.1"
def handler(event, context):
    start = time.time()
    port = os.environ["PROBE"].rsplit(":", 1)[1]
    s = socket.create_connection((HOST, int(port)))
    s.sendall((json.dumps({"start": start, "id": event["id"]}) + "\\n").encode())
    s.close()
"""


class Probe:
    """Counts lines handlers send to a loopback socket."""

    def __init__(self) -> None:
        import socket

        self._sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Any) -> None:
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        conn.close()
        with self._lock:
            self.lines.extend(json.loads(x) for x in data.decode().splitlines() if x)


def _wait(check: Any, bound_s: float = 600.0) -> None:
    deadline = time.monotonic() + bound_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.002)


def _function(server: ServerProcess, name: str, probe: Probe, rule_arn: str) -> str:
    lam = server.client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(server, name),
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
        MemorySize=128,
        Environment={"Variables": {"PROBE": probe.address}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.add_permission(
        FunctionName=name,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    return str(lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def latency(server: ServerProcess, count: int) -> dict[str, Any]:
    probe = Probe()
    events = server.client("events")
    rule = events.put_rule(Name="lat", EventPattern='{"source": ["lat"]}')["RuleArn"]
    arn = _function(server, "eb-lat", probe, rule)
    events.put_targets(Rule="lat", Targets=[{"Id": "f", "Arn": arn}])
    samples: list[float] = []
    for i in range(count + 5):
        seen = len(probe.lines)
        sent = time.time()
        events.put_events(Entries=[{"Source": "lat", "DetailType": "t", "Detail": "{}"}])
        _wait(lambda seen=seen: len(probe.lines) > seen)
        if i >= 5:  # the first ones warm the environment
            samples.append((probe.lines[-1]["start"] - sent) * 1000)
        time.sleep(0.02)
    samples.sort()
    return {
        "count": len(samples),
        "p50_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(len(samples) * 0.9)], 2),
        "max_ms": round(samples[-1], 2),
    }


def throughput(server: ServerProcess, seconds: float, threads: int) -> dict[str, Any]:
    probe = Probe()
    events = server.client("events")
    for k in range(9):
        events.put_rule(Name=f"kind-{k}", EventPattern=json.dumps({"detail": {"kind": [k]}}))
    rule = events.put_rule(Name="all", EventPattern='{"source": ["tput"]}')["RuleArn"]
    arns = [_function(server, f"eb-tput-{n}", probe, rule) for n in range(3)]
    events.put_targets(Rule="all", Targets=[{"Id": str(n), "Arn": a} for n, a in enumerate(arns)])
    accepted = [0] * threads
    stop = time.monotonic() + seconds

    def run(t: int) -> None:
        client = server.client("events")
        while time.monotonic() < stop:
            entries = [
                {"Source": "tput", "DetailType": "t", "Detail": json.dumps({"kind": i % 10})}
                for i in range(10)
            ]
            out = client.put_events(Entries=entries)
            accepted[t] += 10 - out["FailedEntryCount"]

    started = time.monotonic()
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    total = sum(accepted)
    _wait(lambda: len(probe.lines) >= 3 * total)
    drained = time.monotonic() - started
    return {
        "threads": threads,
        "accepted_events": total,
        "put_events_per_s": round(total / elapsed / 10, 1),
        "events_per_s": round(total / elapsed, 1),
        "all_handlers_started_after_s": round(drained, 2),
        "handler_starts_per_s": round(3 * total / drained, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    extra = ["--sandbox", args.sandbox]
    if args.database:
        extra += ["--database", args.database]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), extra_args=extra)
        try:
            out: dict[str, Any] = {"sandbox": args.sandbox, "database": bool(args.database)}
            if args.latency:
                out["latency"] = latency(server, args.latency)
            if args.seconds:
                out["throughput"] = throughput(server, args.seconds, args.threads)
        finally:
            server.stop()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
