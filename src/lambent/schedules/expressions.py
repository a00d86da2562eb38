"""Schedule expressions as AWS writes them: `at(...)`, `rate(...)` and six-field `cron(...)`.

One engine for both users of schedule expressions: EventBridge Scheduler (which also has
`at()` and a time zone) and EventBridge rules (`rate`/`cron`, always UTC). Parsing raises
`InvalidScheduleExpression`; each API turns it into its own AWS message
(`scheduler_message`, `EVENTS_MESSAGE`).

Cron arithmetic is our own (`cron.py`): the libraries (cronsim, croniter) have no `nW`
("nearest weekday to day n"), no `?` and no year field, which AWS's syntax has. The tests
check it against cronsim on the syntax both share.

Time zones follow AWS's documented DST rule for Scheduler: a cron time that does not exist
in the zone (spring forward) is skipped; a time that occurs twice (fall back) fires once, at
its first occurrence. `rate()` is a fixed duration (a day is 24 hours), anchored at the
schedule's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambent.schedules.cron import CronSpec, CronSyntaxError, parse_cron

EVENTS_MESSAGE = "Parameter ScheduleExpression is not valid."


def scheduler_message(expression: str) -> str:
    """EventBridge Scheduler's ValidationException text for a bad expression."""
    return f"Invalid Schedule Expression {expression}"


class InvalidScheduleExpression(ValueError):
    """The expression is not one AWS accepts; `str()` says why (for logs, not for users)."""


_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_RATE = re.compile(r"rate\((\d+) ([a-z]+)\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class At:
    """A one-time schedule: a wall-clock time in the schedule's zone."""

    local: datetime


@dataclass(frozen=True)
class Rate:
    """A fixed period in seconds, counted from the schedule's start."""

    seconds: int


@dataclass(frozen=True)
class Cron:
    spec: CronSpec


Expression = At | Rate | Cron


def parse(expression: str, *, allow_at: bool = True, strict_units: bool = False) -> Expression:
    """Parse an AWS schedule expression.

    `allow_at` is False for EventBridge rules, which have no one-time schedules.
    `strict_units` is EventBridge rules' rule that a value of 1 takes the singular unit and
    larger values the plural; Scheduler documents `minutes | hours | days` and takes both.
    """
    if (m := _AT.fullmatch(expression)) and allow_at:
        try:
            y, mo, d, h, mi, s = (int(g) for g in m.groups())
            return At(datetime(y, mo, d, h, mi, s))
        except ValueError as exc:
            raise InvalidScheduleExpression(f"bad date in {expression!r}: {exc}") from None
    if m := _RATE.fullmatch(expression):
        return Rate(_rate_seconds(int(m.group(1)), m.group(2), strict_units))
    if m := _CRON.fullmatch(expression):
        try:
            return Cron(parse_cron(m.group(1)))
        except CronSyntaxError as exc:
            raise InvalidScheduleExpression(str(exc)) from None
    raise InvalidScheduleExpression(f"not at(), rate() or cron(): {expression!r}")


def _rate_seconds(value: int, unit: str, strict: bool) -> int:
    if value <= 0:
        raise InvalidScheduleExpression("rate value must be positive")
    base = unit[:-1] if unit.endswith("s") else unit
    if base not in _UNITS:
        raise InvalidScheduleExpression(f"unknown rate unit {unit!r}")
    plural = unit.endswith("s")
    if strict and plural != (value > 1):
        raise InvalidScheduleExpression("use the singular unit for 1 and the plural above it")
    return value * _UNITS[base]


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone for ScheduleExpressionTimezone (UTC when absent)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidScheduleExpression(f"unknown time zone {name!r}") from None


def next_fire(expr: Expression, after: float, tz: ZoneInfo, anchor: float) -> float | None:
    """The first due time strictly after `after` (epoch seconds), or None if there is none.

    `anchor` is where a rate() counts from (StartDate, else when the schedule was made).
    """
    if isinstance(expr, Rate):
        if after < anchor:
            return anchor
        return anchor + ((after - anchor) // expr.seconds + 1) * expr.seconds
    if isinstance(expr, At):
        when = _to_utc(expr.local, tz)
        return when if when is not None and when > after else None
    return _next_cron(expr.spec, after, tz)


def _to_utc(local: datetime, tz: ZoneInfo) -> float | None:
    """Epoch seconds of a wall-clock time, None if the zone skips it (spring forward);
    a time that occurs twice maps to its first occurrence (fold=0)."""
    aware = local.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        return None
    return aware.timestamp()


def _next_cron(spec: CronSpec, after: float, tz: ZoneInfo) -> float | None:
    # Candidates are wall-clock minutes, each taken once, so a repeated fall-back hour is
    # not fired twice; a candidate's first occurrence may already lie before `after`.
    start = datetime.fromtimestamp(after, tz).replace(tzinfo=None, second=0, microsecond=0)
    for local in spec.iter_from(start):
        when = _to_utc(local, tz)
        if when is not None and when > after:
            return when
    return None
