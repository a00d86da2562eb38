"""What the cluster simulation (`bench/cluster_sim.py`) counted, and the table it prints:
the cold-start ratio, PostgreSQL statements per invoke by purpose, and which resource
saturates first as the invoke rate grows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.cluster_model import Worker

if TYPE_CHECKING:
    from bench.cluster_sim import Params

CLASSES = ((100, "head (ranks 1-100)"), (10_000, "torso (101-10,000)"), (None, "tail"))
READS = ("catalog:", "blobs:", "membership: frontend")


def is_read(purpose: str) -> bool:
    return purpose.startswith(READS)


@dataclass
class Outcome:
    counting: bool = False
    invokes: int = 0
    cold: int = 0
    async_invokes: int = 0
    async_cold: int = 0
    by_class: Counter[str] = field(default_factory=Counter)
    cold_by_class: Counter[str] = field(default_factory=Counter)
    throttles: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    redirects: int = 0
    place_ns: int = 0
    place_calls: int = 0
    killed: tuple[str, int, int] | None = None
    cpu_s: float = 0.0
    measured_s: float = 0.0
    statements: dict[str, int] = field(default_factory=dict)
    by_cause: dict[str, dict[str, int]] = field(default_factory=dict)
    caused: Counter[str] = field(default_factory=Counter)
    evicted: int = 0
    reaped: int = 0
    hottest_pool: int = 0
    # per-second samples while counting
    busy_fraction: list[float] = field(default_factory=list)
    used_fraction: list[float] = field(default_factory=list)
    worst_worker_busy: list[float] = field(default_factory=list)
    idle_envs: list[int] = field(default_factory=list)
    concurrency: list[int] = field(default_factory=list)

    def invoke(self, fn: int, warm: bool, is_async: bool, counting: bool) -> None:
        if not counting:
            return
        cls = next(name for bound, name in CLASSES if bound is None or fn < bound)
        self.invokes += 1
        self.by_class[cls] += 1
        self.async_invokes += is_async
        if not warm:
            self.cold += 1
            self.cold_by_class[cls] += 1
            self.async_cold += is_async

    def throttle(self, reason: str, counting: bool) -> None:
        if counting:
            self.throttles[reason] += 1

    def error(self, what: str, counting: bool) -> None:
        if counting:
            self.errors[what] += 1

    def sample(self, workers: Sequence[Worker], in_use: int) -> None:
        if not self.counting:
            return
        total = sum(w.memory_mb for w in workers)
        busy = [(w.used_mb - w.idle_mb) / w.memory_mb for w in workers if w.alive]
        self.busy_fraction.append(sum(w.used_mb - w.idle_mb for w in workers) / total)
        self.used_fraction.append(sum(w.used_mb for w in workers) / total)
        self.worst_worker_busy.append(max(busy, default=0.0))
        self.idle_envs.append(sum(w.idle_envs() for w in workers))
        self.concurrency.append(in_use)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def saturation(p: Params, o: Outcome, rate: float) -> list[tuple[str, float, str]]:
    """Each resource's projected limit, as invokes/s, scaling today's use linearly."""
    invokes = max(1, o.invokes)
    reads = sum(n for k, n in o.statements.items() if is_read(k)) / invokes
    writes = sum(n for k, n in o.statements.items() if not is_read(k)) / invokes
    place_us = o.place_ns / max(1, o.place_calls) / 1000
    mean_busy = _mean(o.busy_fraction)
    pool_rate = o.hottest_pool / max(1e-9, o.measured_s)
    rows = [
        (
            "PostgreSQL (as measured on this machine)",
            1 / max(1e-12, writes / p.pg_writes + reads / p.pg_reads),
            f"{writes:.2f} writes + {reads:.2f} reads per invoke; "
            f"{p.pg_writes:,.0f} writes/s, {p.pg_reads:,.0f} reads/s here",
        ),
        (
            "placement CPU on frontends",
            p.place_cores * 1e6 / max(1e-9, place_us),
            f"{place_us:.1f} µs per place() over {p.workers} workers, {p.place_cores:g} cores",
        ),
        (
            "worker memory (busy environments)",
            rate / max(1e-9, mean_busy),
            f"{mean_busy:.1%} of the fleet's memory busy at {rate:,.0f}/s (mean)",
        ),
        (
            "hottest admission pool (one advisory lock)",
            rate * p.pool_capacity / max(1e-9, pool_rate),
            f"{pool_rate:.1f} grants/s at {rate:,.0f}/s; ~{p.pool_capacity:g}/s serial",
        ),
    ]
    return sorted(rows, key=lambda row: row[1])


def cause_table(o: Outcome) -> list[str]:
    """Statements per invocation of each kind, by what they were for (background: timers,
    per invoke of any kind)."""
    lines = [
        "",
        "| per invocation of each kind | how many | writes | reads | mostly |",
        "| --- | --- | --- | --- | --- |",
    ]
    for cause in ("sync warm", "sync cold", "async warm", "async cold", "throttled or failed"):
        n = o.caused[cause]
        counts = o.by_cause.get(cause, {})
        writes = sum(v for k, v in counts.items() if not is_read(k)) / max(1, n)
        reads = sum(v for k, v in counts.items() if is_read(k)) / max(1, n)
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
        mostly = ", ".join(f"{k} {v / max(1, n):.2f}" for k, v in top)
        lines.append(f"| {cause} | {n:,} | {writes:.2f} | {reads:.2f} | {mostly} |")
    background = o.by_cause.get("background", {})
    per = sum(background.values()) / max(1, o.invokes)
    top = sorted(background.items(), key=lambda kv: -kv[1])[:3]
    mostly = ", ".join(f"{k} {v / max(1, o.invokes):.2f}" for k, v in top)
    lines.append(f"| background, per invoke | {o.invokes:,} | {per:.2f} | | {mostly} |")
    return lines


def report(p: Params, o: Outcome) -> dict[str, Any]:
    rate = o.invokes / max(1e-9, o.measured_s)
    per_invoke = {k: v / max(1, o.invokes) for k, v in sorted(o.statements.items())}
    sat = saturation(p, o, rate)
    lines = [
        f"cluster simulation: {p.workers} workers x {p.worker_memory_mb // 1024} GB, "
        f"{p.frontends} frontends, {p.functions:,} functions, zipf {p.zipf}, "
        f"{p.rate:,.0f}/s + bursts of {p.burst_size} every {p.burst_every:g} s, "
        f"keep-alive {p.keep_alive:g} s, views {p.views}",
        f"measured {o.measured_s:g} s after {p.warmup:g} s of warm-up: {o.invokes:,} invokes "
        f"({rate:,.0f}/s, {o.async_invokes:,} async); simulated in {o.cpu_s:.1f} s of CPU",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| cold-start ratio, all | {o.cold / max(1, o.invokes):.2%} |",
        f"| cold-start ratio, async events | {o.async_cold / max(1, o.async_invokes):.2%} |",
    ]
    for _, cls in CLASSES:
        share = o.by_class[cls] / max(1, o.invokes)
        cold = o.cold_by_class[cls] / max(1, o.by_class[cls])
        lines.append(f"| cold-start ratio, {cls}: {share:.0%} of invokes | {cold:.2%} |")
    for reason, n in sorted(o.throttles.items()):
        lines.append(f"| throttled, {reason} | {n:,} |")
    for what, n in sorted(o.errors.items()):
        lines.append(f"| failed, {what} | {n:,} |")
    lines += [
        f"| refused by a worker and placed again | {o.redirects:,} |",
        f"| place() per call | {o.place_ns / max(1, o.place_calls) / 1000:.1f} µs |",
        f"| fleet memory in use: busy / with idle (mean) | "
        f"{_mean(o.busy_fraction):.1%} / {_mean(o.used_fraction):.1%} |",
        f"| fleet memory busy (peak, during a burst) | {max(o.busy_fraction, default=0):.1%} |",
        f"| busiest worker's memory busy (peak) | {max(o.worst_worker_busy, default=0):.1%} |",
        f"| idle environments kept (mean) | {_mean(o.idle_envs):,.0f} |",
        f"| idle environments reclaimed for room / reaped | {o.evicted:,} / {o.reaped:,} |",
        f"| concurrent executions (mean / peak) | "
        f"{_mean(o.concurrency):,.0f} / {max(o.concurrency, default=0):,} |",
    ]
    if o.killed:
        lines.append(
            f"| worker killed: {o.killed[0]}, invocations failed / idle environments lost | "
            f"{o.killed[1]} / {o.killed[2]} |"
        )
    lines += [
        "",
        "| PostgreSQL statements | kind | per invoke | per second |",
        "| --- | --- | --- | --- |",
    ]
    for purpose, share in per_invoke.items():
        kind = "read" if is_read(purpose) else "write"
        lines.append(f"| {purpose} | {kind} | {share:.4f} | {share * rate:,.0f} |")
    total = sum(per_invoke.values())
    lines.append(f"| **total** | | **{total:.3f}** | **{total * rate:,.0f}** |")
    lines += cause_table(o)
    lines += ["", "| saturates at (invokes/s) | projected | from |", "| --- | --- | --- |"]
    for name, limit, why in sat:
        lines.append(f"| {name} | {limit:,.0f} | {why} |")
    return {
        "params": p.__dict__,
        "invokes": o.invokes,
        "rate": rate,
        "cold_ratio": o.cold / max(1, o.invokes),
        "statements_per_invoke": per_invoke,
        "saturation": [{"resource": n, "invokes_per_s": v, "from": w} for n, v, w in sat],
        "table": "\n".join(lines),
    }
