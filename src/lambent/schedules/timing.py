"""When a schedule is next due, from its document: the expression in its time zone,
bounded by StartDate/EndDate, spread over a flexible time window.

AWS: a rate() schedule without StartDate starts invoking at once; cron and rate count from
StartDate when given; nothing fires after EndDate; `at()` ignores both. With
FlexibleTimeWindow FLEXIBLE the invocation lands anywhere in [due, due + window).
"""

from __future__ import annotations

import random
from typing import Any

from lambent.schedules.backend import Timing
from lambent.schedules.expressions import At, Expression, next_fire, parse, zone


def expression(doc: dict[str, Any]) -> Expression:
    return parse(str(doc["ScheduleExpression"]))


def spread(doc: dict[str, Any], due: float) -> float:
    window = doc.get("FlexibleTimeWindow") or {}
    if window.get("Mode") != "FLEXIBLE":
        return due
    return due + random.uniform(0, 60 * int(window.get("MaximumWindowInMinutes") or 0))


def _bounded(doc: dict[str, Any], expr: Expression, due: float | None) -> Timing:
    end = doc.get("EndDate")
    if due is None or (end is not None and not isinstance(expr, At) and due > end):
        return Timing(None, None)
    return Timing(spread(doc, due), due)


def first(doc: dict[str, Any], now: float) -> Timing:
    """The first due time of a new or updated schedule."""
    expr = expression(doc)
    tz = zone(doc.get("ScheduleExpressionTimezone"))
    start = doc.get("StartDate")
    anchor = float(start if start is not None else doc["CreationDate"])
    after = now if isinstance(expr, At) else max(now, anchor) - 0.001
    return _bounded(doc, expr, next_fire(expr, after, tz, anchor))


def following(doc: dict[str, Any], due: float, now: float) -> Timing:
    """The next due time after one that fired: times missed while nothing ran (the server
    was down) are not replayed one by one; the next is the first due after `now`."""
    expr = expression(doc)
    if isinstance(expr, At):
        return Timing(None, None)
    tz = zone(doc.get("ScheduleExpressionTimezone"))
    start = doc.get("StartDate")
    anchor = float(start if start is not None else doc["CreationDate"])
    return _bounded(doc, expr, next_fire(expr, max(due, now), tz, anchor))
