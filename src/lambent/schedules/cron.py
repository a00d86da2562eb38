"""AWS's six-field cron: `minutes hours day-of-month month day-of-week year`.

Written here rather than taken from cronsim/croniter because AWS's syntax has parts they
lack: `nW` (the weekday nearest day n), `?`, and the year field. Day-of-week counts 1=SUN to
7=SAT. Exactly one of day-of-month and day-of-week is `?` (AWS: "you can't specify both").
Matching works on naive wall-clock datetimes; time zones are the caller's business.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


class CronSyntaxError(ValueError):
    """A cron field AWS would reject."""


_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_LAST_YEAR = 2199

DayTest = Callable[[date], bool]


@dataclass(frozen=True)
class CronSpec:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int]
    day: DayTest

    def iter_from(self, start: datetime) -> Iterator[datetime]:
        """Every matching minute at or after `start`, in order, up to the year 2199."""
        day = start.date()
        while day.year <= _LAST_YEAR:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                continue
            if self.day(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        at = datetime.combine(day, time(hour, minute))
                        if at >= start:
                            yield at
            day += timedelta(days=1)


def parse_cron(body: str) -> CronSpec:
    """Parse the inside of `cron(...)`; raise CronSyntaxError as AWS would reject it."""
    fields = body.split(" ")
    if len(fields) != 6:
        raise CronSyntaxError(f"cron takes 6 fields, got {len(fields)}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise CronSyntaxError("exactly one of day-of-month and day-of-week must be '?'")
    day = _dom(dom) if dow == "?" else _dow(dow)
    return CronSpec(
        minutes=tuple(sorted(_values(minute, 0, 59, {}))),
        hours=tuple(sorted(_values(hour, 0, 23, {}))),
        months=frozenset(_values(month, 1, 12, _MONTHS)),
        years=frozenset(_values(year, 1970, _LAST_YEAR, {})),
        day=day,
    )


def _number(text: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit() or not low <= int(text) <= high:
        raise CronSyntaxError(f"{text!r} is not in {low}-{high}")
    return int(text)


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """`*`, `n`, `a-b`, `*/s`, `a/s`, `a-b/s` and comma lists of them."""
    out: set[int] = set()
    for term in field.split(","):
        base, slash, step_text = term.partition("/")
        step = _number(step_text, 1, high, {}) if slash else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(a, low, high, names), _number(b, low, high, names)
            if last < first:
                raise CronSyntaxError(f"range {base!r} runs backwards")
        else:
            first = _number(base, low, high, names)
            last = high if slash else first
        out.update(range(first, last + 1, step))
    return out


def _days_in(d: date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def _nearest_weekday(d: date, n: int) -> bool:
    """Quartz's `nW`: the weekday nearest day n, not leaving the month."""
    last = _days_in(d)
    if n > last:
        return False
    target = d.replace(day=n)
    if target.weekday() == 5:
        target = target + timedelta(days=2) if n == 1 else target - timedelta(days=1)
    elif target.weekday() == 6:
        target = target - timedelta(days=2) if n == last else target + timedelta(days=1)
    return d == target


def _dom(field: str) -> DayTest:
    tests: list[DayTest] = []
    plain: set[int] = set()
    for term in field.split(","):
        if term == "L":
            tests.append(lambda d: d.day == _days_in(d))
        elif term == "LW":
            tests.append(lambda d: d.weekday() < 5 and _nearest_weekday(d, _days_in(d)))
        elif term.endswith("W") and term[:-1].isdigit():
            n = _number(term[:-1], 1, 31, {})
            tests.append(lambda d, n=n: _nearest_weekday(d, n))  # type: ignore[misc]
        else:
            plain |= _values(term, 1, 31, {})
    if plain:
        tests.append(lambda d: d.day in plain)
    return lambda d: any(t(d) for t in tests)


def _aws_dow(d: date) -> int:
    return (d.weekday() + 1) % 7 + 1


def _dow(field: str) -> DayTest:
    tests: list[DayTest] = []
    plain: set[int] = set()
    for term in field.split(","):
        if term == "L":
            plain.add(7)
        elif term.endswith("L"):
            n = _number(term[:-1], 1, 7, _DAYS)
            tests.append(lambda d, n=n: _aws_dow(d) == n and d.day + 7 > _days_in(d))  # type: ignore[misc]
        elif "#" in term:
            a, _, k = term.partition("#")
            n, nth = _number(a, 1, 7, _DAYS), _number(k, 1, 5, {})
            tests.append(lambda d, n=n, nth=nth: _aws_dow(d) == n and (d.day + 6) // 7 == nth)  # type: ignore[misc]
        else:
            plain |= _values(term, 1, 7, _DAYS)
    if plain:
        tests.append(lambda d: _aws_dow(d) in plain)
    return lambda d: any(t(d) for t in tests)
