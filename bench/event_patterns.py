"""Matching events against rules: the event-pattern engine (issue 11 §1).

    python -m bench.event_patterns [--events 10000] [--rounds 7] [--seed 1]

Rules look like EventBridge rules in use: a source and a detail-type required exactly,
plus conditions on the detail (numeric ranges, prefixes, anything-but, exists); one in ten
has no exact field at all (it must be checked against every event). Events come from 30
sources (so most rules cannot match most events) with a realistic detail. Reported
(medians over the rounds): the time to match all events against 100 rules with the
RuleSet index, the same with the naive loop over every compiled pattern (the baseline, in
the same run), and events/s against 1, 10 and 100 rules. Compiling is timed apart: it
happens once, when a rule is put. Times are the process's CPU time (time.process_time),
so a busy machine's other work does not count; one core's matching speed is what is asked.

Prints a JSON document.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

from lambent.event_patterns import CompiledPattern, RuleSet, compile_pattern


def make_rule(i: int) -> dict[str, Any]:
    if i % 10 == 9:  # no exact field: scanned for every event
        return {"detail": {"region": [{"prefix": f"eu-{i % 3}"}], "amount": [{"exists": True}]}}
    return {
        "source": [f"app.{i % 30}"],
        "detail-type": [f"Order {['Placed', 'Paid', 'Shipped'][i % 3]}"],
        "detail": {
            "amount": [{"numeric": [">", i % 50, "<=", 1000]}],
            "region": [{"prefix": "us-"}, {"anything-but": {"prefix": "ap-"}}],
            "$or": [{"tier": ["gold", "silver"]}, {"vip": [{"exists": True}]}],
        },
    }


def make_event(rng: random.Random) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "amount": rng.randint(0, 1200),
        "region": rng.choice(["us-east-1", "eu-1-west", "ap-south-1", "eu-0-north"]),
        "tier": rng.choice(["gold", "silver", "bronze"]),
        "items": [{"sku": f"sku-{rng.randint(1, 99)}", "qty": rng.randint(1, 5)}],
    }
    if rng.random() < 0.2:
        detail["vip"] = True
    return {
        "version": "0",
        "id": f"{rng.getrandbits(64):016x}",
        "source": f"app.{rng.randint(0, 29)}",
        "detail-type": rng.choice(["Order Placed", "Order Paid", "Order Shipped"]),
        "account": "123456789012",
        "time": "2026-12-03T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def timed(fn: Any, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def run(events_n: int, rounds: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    events = [make_event(rng) for _ in range(events_n)]
    start = time.perf_counter()
    compiled: dict[int, CompiledPattern] = {i: compile_pattern(make_rule(i)) for i in range(100)}
    compile_s = time.perf_counter() - start
    out: dict[str, Any] = {"events": events_n, "compile_100_rules_ms": round(compile_s * 1e3, 2)}
    for n in (1, 10, 100):
        subset = {k: v for k, v in compiled.items() if k < n}
        rules = RuleSet(subset)
        indexed = timed(lambda rules=rules: [rules.matching(e) for e in events], rounds)
        out[f"rules_{n}"] = {
            "indexed_ms": round(indexed * 1e3, 1),
            "events_per_s": round(events_n / indexed),
        }
    patterns = list(compiled.items())
    naive = timed(lambda: [[k for k, p in patterns if p.matches(e)] for e in events], rounds)
    out["rules_100"]["naive_loop_ms"] = round(naive * 1e3, 1)
    rules = RuleSet(compiled)
    matches = sum(len(rules.matching(e)) for e in events)
    out["rules_100"]["matches"] = matches
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.rounds, args.seed), indent=2))


if __name__ == "__main__":
    main()
