"""Schedule expressions: AWS's syntax accepted and rejected, and due times across DST."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from lambent.schedules.cron import parse_cron
from lambent.schedules.expressions import (
    At,
    InvalidScheduleExpression,
    Rate,
    next_fire,
    parse,
    zone,
)


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def iso(epoch: float | None, tz: str = "UTC") -> str:
    assert epoch is not None
    return datetime.fromtimestamp(epoch, zone(tz)).isoformat()


VALID = [
    "at(2027-01-31T23:59:00)",
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(2 hours)",
    "rate(1 day)",
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(0 9 L * ? *)",
    "cron(0 9 LW * ? *)",
    "cron(0 9 15W * ? *)",
    "cron(0 9 ? * 6L *)",
    "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)",
    "cron(30-30 13-13 ? * 2,4,6 *)",
    "cron(1-31/30 1-1 ? * 1,7 *)",
    "cron(0 0 1 JAN,JUL ? 2027-2030)",
]

INVALID = [
    "cron(0 10 * * ?)",  # five fields
    "cron(0 10 * * * *)",  # both day fields given
    "cron(0 10 ? * ? *)",  # neither
    "cron(7 20 * * 1-7 *)",
    "cron(15 12 ? * -1 *)",
    "cron(60 * * * ? *)",
    "cron(0 24 * * ? *)",
    "cron(0 0 32 * ? *)",
    "cron(0 0 ? * 8 *)",
    "cron(0 0 1 13 ? *)",
    "cron(0 0 1 * ? 1969)",
    "cron(0/0 * * * ? *)",
    "rate(0 minutes)",
    "rate(5 seconds)",
    "rate(-1 minutes)",
    "rate(5minutes)",
    "at(2027-02-30T00:00:00)",
    "at(2027-01-01 00:00:00)",
    "every 5 minutes",
    "",
]


@pytest.mark.parametrize("expression", VALID)
def test_aws_examples_parse(expression: str) -> None:
    parse(expression)


@pytest.mark.parametrize("expression", INVALID)
def test_what_aws_rejects_is_rejected(expression: str) -> None:
    with pytest.raises(InvalidScheduleExpression):
        parse(expression)


def test_events_rules_have_no_at_and_strict_units() -> None:
    with pytest.raises(InvalidScheduleExpression):
        parse("at(2027-01-01T00:00:00)", allow_at=False)
    with pytest.raises(InvalidScheduleExpression):
        parse("rate(1 minutes)", strict_units=True)
    with pytest.raises(InvalidScheduleExpression):
        parse("rate(5 minute)", strict_units=True)
    assert parse("rate(1 minutes)") == Rate(60)


def test_rate_counts_from_its_anchor() -> None:
    anchor = ts("2027-03-01T00:00:30+00:00")
    rate = parse("rate(5 minutes)")
    assert next_fire(rate, anchor - 10, zone("UTC"), anchor) == anchor
    assert next_fire(rate, anchor, zone("UTC"), anchor) == anchor + 300
    assert next_fire(rate, anchor + 301, zone("UTC"), anchor) == anchor + 600


def test_at_fires_once_in_its_zone() -> None:
    at = parse("at(2027-07-01T09:00:00)")
    assert isinstance(at, At)
    tz = zone("Europe/Paris")
    first = next_fire(at, 0, tz, 0)
    assert iso(first) == "2027-07-01T07:00:00+00:00"
    assert first is not None and next_fire(at, first, tz, 0) is None


def test_cron_spring_forward_skips_the_missing_time() -> None:
    # America/New_York jumps from 02:00 to 03:00 on 2027-03-14.
    expr, tz = parse("cron(30 2 * * ? *)"), zone("America/New_York")
    after = ts("2027-03-13T08:00:00+00:00")  # 03:00 local on the 13th
    nxt = next_fire(expr, after, tz, 0)
    assert iso(nxt, "America/New_York") == "2027-03-15T02:30:00-04:00"


def test_cron_fall_back_fires_once() -> None:
    # America/New_York repeats 01:00-02:00 on 2027-11-07.
    expr, tz = parse("cron(30 1 * * ? *)"), zone("America/New_York")
    first = next_fire(expr, ts("2027-11-07T04:00:00+00:00"), tz, 0)
    assert iso(first, "America/New_York") == "2027-11-07T01:30:00-04:00"
    assert first is not None
    second = next_fire(expr, first, tz, 0)
    assert iso(second, "America/New_York") == "2027-11-08T01:30:00-05:00"


def test_cron_keeps_wall_clock_across_dst() -> None:
    expr, tz = parse("cron(0 9 ? * MON-FRI *)"), zone("Europe/Berlin")
    t = ts("2027-03-25T00:00:00+00:00")
    seen = []
    for _ in range(4):
        t = next_fire(expr, t, tz, 0)  # type: ignore[assignment]
        seen.append(iso(t, "Europe/Berlin"))
    assert seen == [
        "2027-03-25T09:00:00+01:00",
        "2027-03-26T09:00:00+01:00",
        "2027-03-29T09:00:00+02:00",
        "2027-03-30T09:00:00+02:00",
    ]


def test_special_days() -> None:
    utc = zone("UTC")
    start = ts("2027-01-01T00:00:00+00:00")

    def first(expression: str) -> str:
        return iso(next_fire(parse(expression), start, utc, 0))[:10]

    assert first("cron(0 9 L * ? *)") == "2027-01-31"
    assert first("cron(0 9 LW * ? *)") == "2027-01-29"  # the 31st is a Sunday
    assert first("cron(0 9 2W * ? *)") == "2027-01-01"  # the 2nd is a Saturday
    assert first("cron(0 9 3W * ? *)") == "2027-01-04"  # the 3rd is a Sunday
    assert first("cron(0 9 ? * 6L *)") == "2027-01-29"  # last Friday
    assert first("cron(0 9 ? * 2#2 *)") == "2027-01-11"  # second Monday
    assert first("cron(0 0 1 1 ? 2029)") == "2029-01-01"
    assert next_fire(parse("cron(0 0 1 1 ? 2026)"), start, utc, 0) is None


def _to_cronsim(minute: str, hour: str, dom: str, month: str, dow: str) -> str:
    """Standard cron for the subset both speak: `?` is `*`, AWS's 1-7 days are 0-6."""
    cdow = "*" if dow == "?" else ",".join(str(int(d) - 1) for d in dow.split(","))
    return " ".join([minute, hour, "*" if dom == "?" else dom, month, cdow])


def test_agrees_with_cronsim_on_the_shared_subset() -> None:
    # Imported here: worktrees installed before cronsim was pinned still run the rest.
    CronSim = pytest.importorskip("cronsim").CronSim
    rng = random.Random(11)
    start = datetime(2027, 1, 1, 0, 0)
    for _ in range(150):
        minute = rng.choice(["*", "0", "*/7", "5-20/5", "0,30", str(rng.randrange(60))])
        hour = rng.choice(["*", "3", "*/5", "8-17", "1,13"])
        month = rng.choice(["*", "2", "1-6", "*/4"])
        if rng.random() < 0.5:
            dom, dow = rng.choice(["*", "1", "L", "15", "28-31", "*/10"]), "?"
        else:
            dom, dow = "?", rng.choice(["1", "2,4,6", "7", "3"])
        aws = parse_cron(f"{minute} {hour} {dom} {month} {dow} *")
        ours = aws.iter_from(start)
        theirs = CronSim(_to_cronsim(minute, hour, dom, month, dow), start)
        for _ in range(20):
            expected = next(theirs)
            got = next(ours)
            if got == start and expected != start:
                got = next(ours)  # cronsim starts strictly after `start`
            assert got == expected, (minute, hour, dom, month, dow)


def test_epoch_helpers_round_trip() -> None:
    assert iso(ts("2027-01-01T00:00:00+00:00")) == datetime(2027, 1, 1, tzinfo=UTC).isoformat()
