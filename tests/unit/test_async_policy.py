"""The async retry policy: every (outcome, retries left, time left) entry of its table, and
AWS's schedules replayed in virtual time on a ManualClock."""

from __future__ import annotations

import itertools

import pytest

from lambent.async_invoke.event import EventState, Response
from lambent.async_invoke.policy import (
    TABLE,
    Action,
    Condition,
    Decision,
    Outcome,
    OutcomeKind,
    RetryConfig,
    RetryTiming,
    decide,
    expired,
)
from lambent.clock import ManualClock

K, A, C = OutcomeKind, Action, Condition
AWS = RetryTiming()  # 60 s base, backoff 1 s doubling to 300 s
DEFAULT = RetryConfig()  # 2 retries, 6 hours
ERROR = Response(b'{"errorMessage":"boom","errorType":"ValueError"}', "$LATEST", "Unhandled")
OK = Response(b'{"ok":true}', "$LATEST")


# The table as prose, one rule per line, written independently of the module's table.
def expected(
    kind: OutcomeKind, retries_left: bool, in_time: bool
) -> tuple[Action, Condition | None]:
    if kind is K.SUCCESS:
        return A.SUCCEED, C.SUCCESS
    if kind in (K.GONE, K.RECURSIVE_LOOP):
        return A.DROP, None
    if kind is K.ZERO_CONCURRENCY:
        return A.FAIL, C.ZERO_RESERVED_CONCURRENCY
    if kind is K.EXPIRED:
        return A.FAIL, C.EVENT_AGE_EXCEEDED
    if kind is K.FUNCTION_ERROR and not retries_left:
        return A.FAIL, C.RETRIES_EXHAUSTED
    # function errors with retries left, throttles and system errors: age decides
    return (A.RETRY, None) if in_time else (A.FAIL, C.EVENT_AGE_EXCEEDED)


PAIRS = list(itertools.product(OutcomeKind, (True, False), (True, False)))


def test_table_covers_every_pair() -> None:
    assert set(TABLE) == set(PAIRS)


@pytest.mark.parametrize(("kind", "retries_left", "in_time"), PAIRS)
def test_table_entry(kind: OutcomeKind, retries_left: bool, in_time: bool) -> None:
    rule = TABLE[(kind, retries_left, in_time)]
    assert (rule.action, rule.condition) == expected(kind, retries_left, in_time)


def outcome(kind: OutcomeKind) -> Outcome:
    if kind is K.SUCCESS:
        return Outcome(kind, OK)
    if kind is K.FUNCTION_ERROR:
        return Outcome(kind, ERROR)
    return Outcome(kind)


class Event:
    """One event driven through the policy as delivery would, on a manual clock."""

    def __init__(self, clock: ManualClock, config: RetryConfig = DEFAULT) -> None:
        self.clock = clock
        self.config = config
        self.state = EventState(enqueued_at=clock.time())
        self.attempt_times: list[float] = []

    def attempt(self, kind: OutcomeKind, timing: RetryTiming = AWS) -> Decision:
        """Wait until due (if retrying), then apply one outcome."""
        now = self.clock.time()
        if expired(self.state, now, self.config):
            kind = K.EXPIRED
        self.attempt_times.append(now - self.state.enqueued_at)
        decision = decide(self.state, outcome(kind), now, self.config, timing)
        self.state = decision.state
        if decision.action is A.RETRY:
            assert decision.at is not None
            self.clock.advance(decision.at - now)
        return decision


def test_function_errors_retry_after_one_then_two_minutes_then_exhaust() -> None:
    ev = Event(ManualClock())
    d1 = ev.attempt(K.FUNCTION_ERROR)
    d2 = ev.attempt(K.FUNCTION_ERROR)
    d3 = ev.attempt(K.FUNCTION_ERROR)
    assert [d.action for d in (d1, d2, d3)] == [A.RETRY, A.RETRY, A.FAIL]
    assert d3.condition is C.RETRIES_EXHAUSTED
    assert ev.attempt_times == [0.0, 60.0, 180.0]
    assert d3.state.attempts == 3  # approximateInvokeCount
    assert d3.state.last_response == ERROR


@pytest.mark.parametrize("max_retries", [0, 1, 2])
def test_maximum_retry_attempts_bounds_function_attempts(max_retries: int) -> None:
    ev = Event(ManualClock(), RetryConfig(max_retries=max_retries))
    decisions = [ev.attempt(K.FUNCTION_ERROR) for _ in range(max_retries + 1)]
    assert [d.action for d in decisions] == [A.RETRY] * max_retries + [A.FAIL]
    assert decisions[-1].condition is C.RETRIES_EXHAUSTED
    assert decisions[-1].state.attempts == max_retries + 1


def test_success_after_a_function_error_reports_two_attempts() -> None:
    ev = Event(ManualClock())
    ev.attempt(K.FUNCTION_ERROR)
    done = ev.attempt(K.SUCCESS)
    assert (done.action, done.condition) == (A.SUCCEED, C.SUCCESS)
    assert done.state.attempts == 2
    assert done.state.last_response == OK


def test_throttles_back_off_exponentially_to_five_minutes_without_using_retries() -> None:
    ev = Event(ManualClock())
    delays = []
    for _ in range(12):
        before = ev.clock.time()
        decision = ev.attempt(K.THROTTLED)
        assert decision.action is A.RETRY
        delays.append(ev.clock.time() - before)
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    assert ev.state.attempts == 0
    # Throttles used no retries: three function attempts are still allowed.
    results = [ev.attempt(K.FUNCTION_ERROR).action for _ in range(3)]
    assert results == [A.RETRY, A.RETRY, A.FAIL]


def test_system_errors_back_off_like_throttles_and_reset_after_an_attempt() -> None:
    ev = Event(ManualClock())
    ev.attempt(K.SYSTEM_ERROR)
    ev.attempt(K.SYSTEM_ERROR)
    assert ev.state.backoffs == 2
    ev.attempt(K.FUNCTION_ERROR)
    assert ev.state.backoffs == 0
    before = ev.clock.time()
    ev.attempt(K.SYSTEM_ERROR)
    assert ev.clock.time() - before == 1.0


def test_throttled_until_too_old_fails_with_event_age_exceeded() -> None:
    ev = Event(ManualClock(), RetryConfig(max_age_s=60))
    decisions: list[Decision] = []
    while not decisions or decisions[-1].action is A.RETRY:
        decisions.append(ev.attempt(K.THROTTLED))
    last = decisions[-1]
    assert (last.action, last.condition) == (A.FAIL, C.EVENT_AGE_EXCEEDED)
    # 1+2+4+8+16 = 31 s; the next wait (32 s) would end past 60 s.
    assert ev.attempt_times[-1] == 31.0
    assert last.state.attempts == 0 and last.state.last_response is None


def test_a_function_retry_past_the_age_limit_fails_now() -> None:
    ev = Event(ManualClock(), RetryConfig(max_age_s=100))
    first = ev.attempt(K.FUNCTION_ERROR)  # retry at 60 s: in time
    second = ev.attempt(K.FUNCTION_ERROR)  # retry would be at 180 s: too old
    assert first.action is A.RETRY
    assert (second.action, second.condition) == (A.FAIL, C.EVENT_AGE_EXCEEDED)
    assert second.state.attempts == 2
    assert second.state.last_response == ERROR


def test_an_event_that_aged_in_the_queue_is_not_run() -> None:
    clock = ManualClock()
    ev = Event(clock, RetryConfig(max_age_s=60))
    clock.advance(61)
    decision = ev.attempt(K.SUCCESS)  # would have succeeded; never gets the chance
    assert (decision.action, decision.condition) == (A.FAIL, C.EVENT_AGE_EXCEEDED)
    assert decision.state.attempts == 0


def test_exactly_at_the_age_limit_is_still_in_time() -> None:
    ev = Event(ManualClock(), RetryConfig(max_age_s=60))
    assert ev.attempt(K.FUNCTION_ERROR).action is A.RETRY  # due at exactly 60 s
    assert not expired(ev.state, ev.clock.time(), ev.config)


def test_zero_reserved_concurrency_fails_at_once() -> None:
    decision = Event(ManualClock()).attempt(K.ZERO_CONCURRENCY)
    assert (decision.action, decision.condition) == (A.FAIL, C.ZERO_RESERVED_CONCURRENCY)
    assert decision.state.attempts == 0


def test_a_deleted_function_drops_the_event() -> None:
    decision = Event(ManualClock()).attempt(K.GONE)
    assert (decision.action, decision.condition, decision.at) == (A.DROP, None, None)


def test_test_timing_scales_the_delays() -> None:
    ev = Event(ManualClock())
    fast = RetryTiming(retry_base_s=0.5, backoff_base_s=0.1, backoff_max_s=1.0)
    ev.attempt(K.FUNCTION_ERROR, fast)
    ev.attempt(K.FUNCTION_ERROR, fast)
    assert ev.attempt_times == [0.0, 0.5]
    before = ev.clock.time()
    ev.attempt(K.FUNCTION_ERROR, fast)
    assert ev.clock.time() == before  # exhausted: no more waiting
