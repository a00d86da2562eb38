"""Counting the hops of a chain of invocations in its trace header: pure, no state.

Lambda follows a chain of invocations (a function invoking a function, synchronously or
asynchronously, or through a destination) by the X-Ray trace header that travels with it:
`X-Amzn-Trace-Id: Root=...;Parent=...;Sampled=0;Lineage=<id>:<count>|<id>:<count>`. Each
`Lineage` entry counts how many times one function has been invoked in this chain, keyed
by a short hash of the function. The runtime puts the header in `_X_AMZN_TRACE_ID`, and
the AWS SDKs send it back on every call they make from inside a function
(botocore's and the JavaScript SDK's recursion-detection handlers), so the count comes
back with the next invoke.

AWS documents that a function invoked about 16 times in one chain is stopped at the next
invocation. Here: the invocation that would be a function's 17th in its chain is the one
stopped (`LIMIT`). Entries written by AWS (`1:<id>:<count>`) are read as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

LIMIT = 16
KEY = "Lineage"


def resource_id(function_arn: str) -> str:
    """A function's key in the lineage: 8 hex digits of its unqualified ARN's SHA-256, so
    versions and aliases of one function count together, as one resource."""
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def _fields(trace: str) -> list[tuple[str, str]]:
    out = []
    for part in trace.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key:
            out.append((key, value))
    return out


def counts(trace: str | None) -> dict[str, int]:
    """Each function's count in the trace's lineage; malformed entries are ignored."""
    found: dict[str, int] = {}
    for key, value in _fields(trace or ""):
        if key != KEY:
            continue
        for entry in value.split("|"):
            parts = entry.split(":")
            if len(parts) not in (2, 3) or not parts[-1].isdigit():
                continue
            found[parts[-2]] = int(parts[-1])
    return found


def with_counts(trace: str, lineage: dict[str, int]) -> str:
    """The trace with its Lineage field replaced by `lineage` (other fields kept, in order)."""
    fields = [(k, v) for k, v in _fields(trace) if k != KEY]
    if lineage:
        fields.append((KEY, "|".join(f"{rid}:{n}" for rid, n in lineage.items())))
    return ";".join(f"{k}={v}" for k, v in fields)


@dataclass(frozen=True, slots=True)
class Hop:
    """One more invocation of a function in a chain: which one it is (`count`, 1 for the
    first) and the trace header the invocation carries on."""

    count: int
    trace: str

    @property
    def over_limit(self) -> bool:
        return self.count > LIMIT


def hop(trace: str, function_arn: str) -> Hop:
    lineage = counts(trace)
    rid = resource_id(function_arn)
    count = lineage.get(rid, 0) + 1
    lineage[rid] = count
    return Hop(count, with_counts(trace, lineage))
