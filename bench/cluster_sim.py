"""A discrete-event simulation of a Lambent cluster at internet scale (issue 9 §4).

    python -m bench.cluster_sim [--workers 100] [--functions 100000] [--zipf 1.0]
        [--rate 3000] [--seconds 180] [--warmup 60] [--keep-alive 120]
        [--views shared|local|heartbeat] [--json]

What runs is the real code: every placement is `cluster.placement.place` (or `place_new`
when the frontend's index says no worker holds the version idle) over views of the
workers, every admission the real `concurrency.admission.Admission` (account concurrency,
reserved concurrency, the unreserved pool), every new environment the real `BurstLimiter`
(the scaling limit), token blocks sized by the real `concurrency.blocks.BlockPolicy`, all
on a `ManualClock` moved from event to event. What
is modelled (`bench/cluster_model.py`) is what those do not hold: workers' environments
(kept warm for a keep-alive, then reaped; the oldest idle reclaimed when a cold start needs
room) and the PostgreSQL statements each component would send.

Load: invokes arrive as a Poisson stream; each names a function drawn from a Zipf law over
ranks (exponent `--zipf`), a fraction `--async-share` of them as Event; every `--burst-every`
seconds one function of middling rank gets `--burst-size` extra invokes within one second.
Functions have a memory size from Lambda's usual spread and a mean duration drawn
log-normally (median 80 ms); a cold start adds an init drawn per function (median 150 ms).

Views (`--views`): `shared`, every frontend sees each worker's idle environments exactly
(an upper bound: a placement service with the whole picture); `local`, each frontend knows
only what it sent, what its own invokes' replies told it, and the workers' heartbeats
(memory and busy count, every `--heartbeat` s): the design's honest case with no shared
placement state; `heartbeat`, as `local`, plus every worker's idle environments per
version carried by its heartbeat (a few KB a second per worker). A worker killed at
`--kill-at` fails what it runs; frontends learn it is gone when it refuses them.

The PostgreSQL model (statements, given the caches; docs/CLUSTER.md, "Capacity"):
- warm sync invoke: 0 on its path. Configuration and keys are cached on the frontend
  (invalidated by NOTIFY); admission uses a leased block of tokens (a statement only when
  the frontend's block runs out, or to give back surplus); placement reads in-memory views;
  the frontend sends the worker the resolved configuration. The worker batches log lines:
  one INSERT per worker per `--log-flush` window (50 ms, the log store's) with anything
  to write.
- cold invoke: as warm, plus the scaling limit's bucket (one statement per new environment,
  `ClusterBurst`), plus one blob read if the worker lacks the code (cached on disk by
  SHA-256 afterwards), plus one read of the configuration if the frontend's cache of
  `--frontend-cache` functions has evicted it.
- async event: the enqueue (group commit: one INSERT and one NOTIFY per frontend per
  commit window `--commit-ms`), a claim (one statement per event: most functions have one
  event due at a time), the settle (one DELETE per poller per commit window), then the
  sync path above.
- background: a heartbeat UPDATE per worker and a membership SELECT per frontend every
  `--heartbeat` s; an admission lease renewal per frontend every 0.5 s.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.cluster_model import LruSet, Statements, TokenBlocks, Worker
from bench.cluster_report import Outcome, report
from lambent.clock import ManualClock
from lambent.cluster.placement import Placement, WorkerView, place, place_new
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.burst import BurstLimiter
from lambent.concurrency.throttle import Throttle
from lambent.errors import TooManyRequests

MEMORY_SIZES = [(128, 30), (256, 20), (512, 20), (1024, 15), (1769, 10), (3008, 5)]
ARRIVE, DONE, TICK = 0, 1, 2


@dataclass(frozen=True)
class Params:
    workers: int = 100
    worker_memory_mb: int = 65536
    worker_cpus: float = 16.0
    frontends: int = 8
    functions: int = 100_000
    accounts: int = 1000
    zipf: float = 1.0
    rate: float = 3000.0
    seconds: float = 180.0
    warmup: float = 60.0
    keep_alive: float = 120.0
    async_share: float = 0.2
    burst_every: float = 30.0
    burst_size: int = 3000
    account_limit: int = 1000
    reserved_functions: int = 100
    scaling_capacity: int = 1000
    scaling_window: float = 10.0
    views: str = "shared"
    heartbeat: float = 1.0
    worker_lease: float = 3.0
    kill_at: float = 150.0
    log_flush: float = 0.05  # LogStore flushes every 50 ms
    commit_ms: float = 2.0
    frontend_cache: int = 20_000
    batched_give_back: bool = False
    # PostgreSQL here (2 cores, shared, load ~9): pgbench, 16 clients, one statement per
    # transaction: 5,700 single-row UPDATEs/s (durable commits), 20,000 point SELECTs/s.
    pg_writes: float = 5_700.0
    pg_reads: float = 20_000.0
    pool_capacity: float = 500.0
    place_cores: float = 8.0
    seed: int = 1


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    account: str
    key: str
    memory: int
    duration: float
    init: float


@dataclass(slots=True)
class Running:
    worker: int
    env: int
    fn: int
    lease: Lease
    frontend: int
    pool: str
    cause: str  # "sync warm", "async cold", ...


def functions(p: Params, rng: random.Random) -> list[Function]:
    sizes, weights = zip(*MEMORY_SIZES, strict=True)
    table = []
    for i in range(p.functions):
        table.append(
            Function(
                name=f"fn{i}",
                account=f"{(i * 7919) % p.accounts:012d}",
                key=f"v{i}",
                memory=rng.choices(sizes, weights)[0],
                duration=min(30.0, rng.lognormvariate(-2.53, 1.2)),  # median 80 ms
                init=min(10.0, rng.lognormvariate(-1.9, 0.8)),  # median 150 ms
            )
        )
    return table


class Simulation:
    def __init__(self, p: Params) -> None:
        self.p = p
        self.rng = random.Random(p.seed)
        self.fns = functions(p, self.rng)
        weights = [1.0 / (rank + 1) ** p.zipf for rank in range(p.functions)]
        self.cum = list(_accumulate(weights))
        reserved = self.rng.sample(range(p.functions), p.reserved_functions)
        self.reserved = {(self.fns[i].account, self.fns[i].name): 10 for i in reserved}
        self.reserved_total: Counter[str] = Counter()
        for (account, _), n in self.reserved.items():
            self.reserved_total[account] += n
        self.clock = ManualClock()
        self.admission = Admission(
            p.account_limit,
            lambda a, f: self.reserved.get((a, f)),
            lambda a: self.reserved_total[a],
        )
        self.burst = BurstLimiter(self.clock, p.scaling_capacity, p.scaling_window)
        self.workers = [
            Worker(f"w{n:03d}", p.worker_memory_mb, p.worker_cpus) for n in range(p.workers)
        ]
        self.index = {w.worker_id: n for n, w in enumerate(self.workers)}
        # Which workers hold an idle environment of a version, per view (shared: one).
        self.holders: list[dict[str, set[int]]] = [{}]
        for n, w in enumerate(self.workers):
            w.number = n
            w.holders = self.holders[0] if p.views == "shared" else None
        self.fe_names = [f"fe{n}" for n in range(p.frontends)]
        # shared: one list every frontend reads; local: one list per frontend.
        self.views: list[list[WorkerView]] = [[w.view() for w in self.workers]]
        self.beliefs: list[list[dict[str, int]]] = []
        if p.views != "shared":
            self.beliefs = [[{} for _ in self.workers] for _ in range(p.frontends)]
            self.holders = [{} for _ in range(p.frontends)]
            self.views = [self._local_views(f) for f in range(p.frontends)]
        self.statements = Statements(p.commit_ms / 1000)
        self.blocks = TokenBlocks(self.statements, batched=p.batched_give_back)
        self.caches = [LruSet(p.frontend_cache) for _ in range(p.frontends)]
        self.out = Outcome()
        self.heap: list[tuple[float, int, int, Any]] = []
        self.seq = 0
        self.env_seq = 0

    def _local_views(self, frontend: int) -> list[WorkerView]:
        beliefs = self.beliefs[frontend]
        return [
            WorkerView(w.worker_id, w.alive, w.memory_mb, w.used_mb, w.cpus, w.busy,
                       beliefs[n], True, w.idle_mb)
            for n, w in enumerate(self.workers)
        ]  # fmt: skip

    def push(self, when: float, kind: int, data: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, data))

    def run(self) -> Outcome:
        p = self.p
        self.push(0.0, TICK, 0)
        began = time.process_time()
        while self.heap:
            now, _, kind, data = heapq.heappop(self.heap)
            if now > p.seconds:
                break
            self.clock.advance(now - self.clock.monotonic())
            if kind == ARRIVE:
                self.arrive(now, data[0], data[1])
            elif kind == DONE:
                self.done(now, data)
            else:
                self.tick(now, data)
        self.out.cpu_s = time.process_time() - began
        self.out.statements = dict(self.statements.count)
        self.out.by_cause = {k: dict(v) for k, v in self.statements.by_cause.items()}
        self.out.measured_s = p.seconds - p.warmup
        self.out.evicted = sum(w.evicted for w in self.workers)
        self.out.reaped = sum(w.reaped for w in self.workers)
        self.out.hottest_pool = max(self.blocks.by_pool.values(), default=0)
        return self.out

    def tick(self, now: float, n: int) -> None:
        """Every 0.5 s: admission's tick; every heartbeat: reaping, heartbeats, views,
        arrivals for the next second, bursts; the worker kill."""
        p = self.p
        self.statements.counting = now >= p.warmup
        self.out.counting = self.statements.counting
        self.blocks.tick()
        self.statements.one("admission: lease renewal", p.frontends)
        if n % 2 == 0:
            self.second(now)
        if p.kill_at and now <= p.kill_at < now + 0.5:
            self.kill(now)
        self.push(now + 0.5, TICK, n + 1)

    def second(self, now: float) -> None:
        p = self.p
        for n, worker in enumerate(self.workers):
            if worker.alive and worker.reap(now - p.keep_alive):
                self.refresh(n)
        self.statements.one("membership: worker heartbeat", sum(w.alive for w in self.workers))
        self.statements.one("membership: frontend reads", p.frontends)
        if p.views == "heartbeat":  # the heartbeat carries each worker's idle counts
            self._publish_idle()
        if p.views != "shared":
            self.views = [self._local_views(f) for f in range(p.frontends)]
        self.out.sample(self.workers, self.admission.in_use())
        count = _poisson(self.rng, p.rate)
        picks = self._draw(count)
        for fn in picks:
            self.push(now + self.rng.random(), ARRIVE, (fn, self.rng.random() < p.async_share))
        if p.burst_every and int(now) % int(p.burst_every) == 0 and now > 0:
            fn = self.rng.randrange(min(1000, p.functions // 10), min(p.functions, 20_000))
            for _ in range(p.burst_size):
                self.push(now + self.rng.random(), ARRIVE, (fn, False))

    def _publish_idle(self) -> None:
        """Every frontend learns every worker's idle environments per version, as a
        heartbeat's load snapshot would carry them."""
        for frontend in range(self.p.frontends):
            holders: dict[str, set[int]] = {}
            beliefs = self.beliefs[frontend]
            for n, worker in enumerate(self.workers):
                beliefs[n] = dict(worker.idle_counts) if worker.alive else {}
                for key in beliefs[n]:
                    holders.setdefault(key, set()).add(n)
            self.holders[frontend] = holders

    def _draw(self, count: int) -> list[int]:
        total = self.cum[-1]
        rnd = self.rng.random
        return [bisect.bisect_left(self.cum, rnd() * total) for _ in range(count)]

    def refresh(self, n: int) -> None:
        if self.p.views == "shared":
            self.views[0][n] = self.workers[n].view()

    def arrive(self, now: float, fn_index: int, is_async: bool) -> None:
        self.statements.begin()
        cause = self._arrive(now, fn_index, is_async)
        self.statements.end(cause)
        self.out.caused[cause] += self.out.counting

    def _arrive(self, now: float, fn_index: int, is_async: bool) -> str:
        """One invoke from its frontend's point of view; what it turned out to be."""
        fn = self.fns[fn_index]
        out, counting = self.out, self.out.counting
        frontend = self.rng.randrange(self.p.frontends)
        fe_name = self.fe_names[frontend]
        if is_async:
            self.statements.grouped("queue: enqueue INSERT (group commit)", fe_name, now)
            self.statements.grouped("queue: NOTIFY (per commit)", fe_name, now)
            self.statements.one("queue: claim")
        if not self.caches[frontend].hit(fn_index):
            self.statements.one("catalog: load a function (cache miss)")
        taken = self.admission.try_take(fn.account, fn.name)
        if isinstance(taken, Throttle):
            out.throttle(taken.reason.value, counting)
            return "throttled or failed"
        reserved = self.reserved.get((fn.account, fn.name))
        pool = f"r:{fn.account}:{fn.name}" if reserved else f"u:{fn.account}"
        capacity = reserved or self.p.account_limit - self.reserved_total[fn.account]
        self.blocks.take(fe_name, pool, capacity)
        placed = self.run_on_worker(now, fn, frontend, taken)
        if placed is None:
            self.admission.give(taken)
            self.blocks.give(fe_name, pool)
            return "throttled or failed"
        worker, env, warm = placed
        out.invoke(fn_index, warm, is_async, counting)
        ends = now + fn.duration * self.rng.lognormvariate(0, 0.3) + (0 if warm else fn.init)
        cause = ("async " if is_async else "sync ") + ("warm" if warm else "cold")
        self.push(ends, DONE, Running(worker, env, fn_index, taken, frontend, pool, cause))
        return cause

    def run_on_worker(
        self, now: float, fn: Function, frontend: int, lease: Lease
    ) -> tuple[int, int, bool] | None:
        """Place, then run on the chosen worker; a worker that cannot (dead, or full in a
        stale view) refuses and the frontend places again with what the refusal told it.
        A frontend whose views show no room reads membership afresh before it gives up."""
        group = frontend if self.p.views != "shared" else 0
        views = self.views[group]
        reread = self.p.views == "shared"
        for _ in range(4):
            started = time.perf_counter_ns()
            placement = self.place(fn, views, self.holders[group].get(fn.key))
            self.out.place_ns += time.perf_counter_ns() - started
            self.out.place_calls += 1
            if placement is None and not reread:
                reread = True
                self.statements.one("membership: frontend reads")
                views[:] = [self._load_view(frontend, n) for n in range(len(views))]
                continue
            if placement is None:
                self.out.error("no worker with room", self.out.counting)
                return None
            n = self.index[placement.worker_id]
            started_env = self.start(now, n, fn, lease)
            if started_env == "throttled":
                return None
            if isinstance(started_env, tuple):
                if self.p.views != "shared":  # what it sent, it knows
                    self._sent(frontend, n, fn, placement.warm)
                return n, started_env[0], started_env[1]
            self.out.redirects += self.out.counting
            views[n] = self._fresh_view(frontend, n)
        self.out.error("placement gave up after 4 refusals", self.out.counting)
        return None

    def place(
        self, fn: Function, views: list[WorkerView], holders: set[int] | None
    ) -> Placement | None:
        """`place` over the workers holding the version (the frontend's index: the same
        answer when warm, see the placement's docstring), else `place_new` over all of
        them (what `place` answers when none holds one)."""
        if holders:
            placement = place(fn.key, fn.memory, [views[n] for n in holders])
            if placement is not None and placement.warm:
                return placement
        return place_new(fn.memory, views)

    def believe(self, frontend: int, n: int, key: str, count: int) -> None:
        """What frontend `frontend` now thinks worker `n` holds idle of `key`."""
        belief, holders = self.beliefs[frontend][n], self.holders[frontend]
        if count > 0:
            belief[key] = count
            holders.setdefault(key, set()).add(n)
            return
        belief.pop(key, None)
        holding = holders.get(key)
        if holding is not None:
            holding.discard(n)
            if not holding:
                del holders[key]

    def start(self, now: float, n: int, fn: Function, lease: Lease) -> tuple[int, bool] | str:
        """Run on worker `n`: warm if it has an idle environment of the version, else cold
        (the scaling limit first, then room); "refused" (dead, or no room) or "throttled"."""
        worker = self.workers[n]
        if not worker.alive:
            return "refused"
        self.env_seq += 1
        if worker.take_idle(fn.key):
            self.refresh(n)
            return self.env_seq, True
        self.statements.one("admission: scaling-limit bucket (per new environment)")
        try:
            self.burst.take(fn.account, fn.name, reserved=lease.reserved)
        except TooManyRequests as throttled:
            self.out.throttle(throttled.reason, self.out.counting)
            return "throttled"
        if not worker.create(fn.memory):
            return "refused"
        if fn.key not in worker.code_cached:
            worker.code_cached.add(fn.key)
            self.statements.one("blobs: fetch code (worker cache miss)")
        self.refresh(n)
        return self.env_seq, False

    def _fresh_view(self, frontend: int, n: int) -> WorkerView:
        worker = self.workers[n]
        if self.p.views == "shared":
            return worker.view()
        belief = self.beliefs[frontend][n]
        for key in list(belief):
            self.believe(frontend, n, key, 0)
        for key, count in worker.idle_counts.items():
            self.believe(frontend, n, key, count)
        return self._load_view(frontend, n)

    def _sent(self, frontend: int, n: int, fn: Function, warm: bool) -> None:
        """Frontend `frontend` adds what it just sent worker `n` to its view of it (it
        learns the rest from the reply and the next heartbeat)."""
        view = self.views[frontend][n]
        if warm:
            belief = self.beliefs[frontend][n].get(fn.key, 0)
            self.believe(frontend, n, fn.key, belief - 1)
            idle = max(0, view.memory_idle_mb - fn.memory)
            self.views[frontend][n] = replace(view, busy=view.busy + 1, memory_idle_mb=idle)
            return
        used = view.memory_used_mb + fn.memory
        if used > view.memory_mb:  # it reclaims idle memory: as much as it needs
            over = used - view.memory_mb
            idle = max(0, view.memory_idle_mb - over)
            used = view.memory_mb
        else:
            idle = view.memory_idle_mb
        self.views[frontend][n] = replace(
            view, busy=view.busy + 1, memory_used_mb=used, memory_idle_mb=min(idle, used)
        )

    def _load_view(self, frontend: int, n: int) -> WorkerView:
        """Frontend `frontend`'s view of worker `n` with the worker's current load: what a
        heartbeat, or a reply from the worker, tells it."""
        worker = self.workers[n]
        belief = self.beliefs[frontend][n]
        return WorkerView(worker.worker_id, worker.alive, worker.memory_mb, worker.used_mb,
                          worker.cpus, worker.busy, belief, True, worker.idle_mb)  # fmt: skip

    def done(self, now: float, run: Running) -> None:
        if run.env < 0:  # its worker died under it: released then
            return
        fn = self.fns[run.fn]
        worker = self.workers[run.worker]
        self.admission.give(run.lease)
        self.blocks.give(self.fe_names[run.frontend], run.pool)
        worker.park(run.env, fn.key, fn.memory, now)
        self.statements.begin()
        self.statements.grouped("logs: batch INSERT", worker.worker_id, now, self.p.log_flush)
        if run.cause.startswith("async"):  # the poller settles the event on its node
            fe_name = self.fe_names[run.frontend]
            self.statements.grouped("queue: settle DELETE (group commit)", fe_name, now)
        self.statements.end(run.cause)
        if self.p.views != "shared":  # the reply carries the worker's counts and load
            self.believe(run.frontend, run.worker, fn.key, worker.idle_counts[fn.key])
            self.views[run.frontend][run.worker] = self._load_view(run.frontend, run.worker)
        self.refresh(run.worker)

    def kill(self, now: float) -> None:
        """SIGKILL the busiest worker: its running invocations fail now (the frontends'
        connections reset, their leases go back); a frontend that places on it afterwards
        is refused and places elsewhere, and its view learns the worker is gone."""
        n = max(range(len(self.workers)), key=lambda i: self.workers[i].busy)
        victim = self.workers[n]
        self.out.killed = (victim.worker_id, victim.busy, victim.idle_envs())
        for entry in self.heap:
            run = entry[3]
            if entry[2] == DONE and run.worker == n:
                self.admission.give(run.lease)
                self.blocks.give(self.fe_names[run.frontend], run.pool)
                run.env = -1
        victim.die()


def _accumulate(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count for a large mean (normal approximation, fine above ~100)."""
    return max(0, round(rng.gauss(mean, mean**0.5)))


def parse(argv: list[str]) -> tuple[Params, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in asdict(Params()).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, action="store_true", default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    parser.add_argument("--json", action="store_true")
    args = vars(parser.parse_args(argv))
    as_json = bool(args.pop("json"))
    return Params(**args), as_json


def main(argv: list[str] | None = None) -> int:
    params, as_json = parse(sys.argv[1:] if argv is None else argv)
    outcome = Simulation(params).run()
    result = report(params, outcome)
    print(json.dumps(result, indent=2) if as_json else result["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
