"""`GET /_lambent/stats`: what an operator (or a leak test) needs to see at a glance.

Concurrency leases in use, execution environments by state, the templates kept (and how
many spawns had to wait for one to start), the async queue and its scheduler (events queued
and claimed, deliveries in flight, throttles), function log lines waiting to be written
and dropped (many wait while PostgreSQL is down), SQS queues' messages visible, in flight
and delayed (`sqs`, per `ACCOUNT/NAME`), invocations stopped by recursive loop
detection (`recursion.RecursiveInvocationsDropped`), and the server's own open file
descriptors and descendant processes. Answered only to loopback clients: it names
functions of every account.

Counting descendants reads /proc/*/stat for every process on the host (20-60 ms on a busy
2-core machine with a few hundred processes): that runs on the App's blocking pool, never
on the event loop, so an operator polling this page does not stall invokes.
"""

from __future__ import annotations

import collections
import dataclasses
import gc
import json
import os
from typing import TYPE_CHECKING, Any

from lambent.gcpolicy import frozen_at_start
from lambent.http.messages import Request, Response

if TYPE_CHECKING:
    from lambent.app import App


def descendants(root: int) -> list[int]:
    """Every live process below `root`, from /proc (zombies excluded)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children[int(fields[1])].append(int(entry))
    out: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def snapshot(app: App) -> dict[str, Any]:
    envs = app.environments.environments()
    states = collections.Counter(env.state.value for env in envs)
    functions: dict[str, dict[str, int]] = {}
    for env in envs:
        v = env.version
        entry = functions.setdefault(
            f"{v.account_id}/{v.function_name}:{v.version}", {"total": 0, "frozen": 0}
        )
        entry["total"] += 1
        entry["frozen"] += int(env.frozen)
    return {
        # Which process answered (`--processes N` serves one port from N of them).
        "pid": os.getpid(),
        "role": app.settings.role,
        "sandbox": app.sandbox.name,
        "isolated": app.sandbox.isolated,
        "leases_in_use": app.admission.in_use(),
        "environments": {
            "total": len(envs),
            "frozen": sum(1 for env in envs if env.frozen),
            **dict(states),
        },
        "environments_by_function": functions,
        "templates": app.environments.templates_ready(),
        "template_cache": template_cache(app),
        "gc": gc_view(),
        # Function log lines waiting to be written, and dropped because too many waited.
        "logs": {"queued": app.logs.queued, "dropped": app.logs.dropped},
        # Invocations recursive loop detection stopped (CloudWatch's metric name).
        "recursion": dataclasses.asdict(app.invoker.recursion.stats),
        **cluster_view(app),
    }


def cluster_view(app: App) -> dict[str, Any]:
    """With a database: this node in the cluster (its lease, the change feed)."""
    member, feed = app.membership, app.changes
    if member is None or feed is None:
        return {}
    return {
        "cluster": {
            "node_id": member.node_id,
            "live": member.is_live(),
            "live_nodes": len(member.known_nodes()),
            **feed.stats(),
        }
    }


def host_counts(pid: int) -> dict[str, int]:
    """What the server holds on the host, read from /proc: blocking, so off the loop."""
    return {
        "server_fds": len(os.listdir("/proc/self/fd")),
        "descendant_processes": len(descendants(pid)),
    }


def gc_view() -> dict[str, Any]:
    """The cyclic collector: objects frozen at start (never scanned again) and collections
    per generation, so an operator can see whether full collections happen."""
    return {
        "frozen_objects": frozen_at_start(),
        "collections": [stat["collections"] for stat in gc.get_stats()],
    }


def template_cache(app: App) -> dict[str, Any]:
    """How many templates are kept, what they cost, and why they came and went."""
    cache = app.environments.templates
    env = app.settings.environments
    return {
        "kept": len(cache.keys()),
        "memory_mb": round(cache.memory_bytes() / (1024 * 1024), 1),
        "budget_mb": env.template_budget_mb,
        "keep_alive_s": env.template_keep_alive_s,
        **dataclasses.asdict(cache.stats),
    }


def handler(app: App) -> Any:
    async def stats(req: Request) -> Response:
        host = req.peer[0] if req.peer else ""
        if host not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            return Response(403, b'{"message":"stats are served to loopback clients only"}')
        view = snapshot(app)
        view.update(await app.work.run(host_counts, os.getpid()))
        view["async"] = await app.async_invoke.snapshot()
        if app.queues is not None:  # SQS: messages by state per queue
            view["sqs"] = await app.queues.stats()
        if app.events is not None:  # EventBridge: deliveries, retries, dead letters
            view["events"] = await app.events.stats()
        if app.sns is not None:  # SNS deliveries since start, per protocol
            view["sns"] = app.sns.delivery.stats.view()
        if app.s3_notify is not None:  # S3 notifications handed over since start
            view["s3_notifications"] = dict(app.s3_notify.stats)
        # Event source mappings this node polls: backlog, oldest age, batches, records...
        view["mappings"] = app.pollers.snapshot()
        body = json.dumps(view).encode()
        return Response(200, body, [("Content-Type", "application/json")])

    return stats
