"""The async retry policy: one table and one pure function of (state, outcome, time, config).

AWS's rules (Lambda developer guide, "error handling and retries with asynchronous
invocation"):
- a function error (the code's own error, or the runtime's: timeout, crash, out of memory,
  init failure) is retried `MaximumRetryAttempts` times (0-2, default 2), after about
  1 minute and then 2 minutes;
- a throttle (429) or a system error (Lambda's own 5xx) does not count against those
  retries: the event goes back to the queue with a backoff that doubles from 1 s up to
  5 minutes;
- either way an event never outlives `MaximumEventAgeInSeconds` (60-21600, default 6 h):
  a retry that would start later fails with `EventAgeExceeded`;
- with reserved concurrency 0 the event fails at once (`ZeroReservedConcurrency`), no retries;
- an event whose function was deleted is dropped.

The table decides *what* happens from the outcome and two facts (are retries left, is
there time); `decide()` works out those facts, the delay and the new state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from lambent.async_invoke.event import EventState, Response

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600.0


class OutcomeKind(enum.Enum):
    SUCCESS = "success"
    FUNCTION_ERROR = "function-error"  # FunctionError set: the code or its runtime failed
    THROTTLED = "throttled"  # TooManyRequests from admission
    SYSTEM_ERROR = "system-error"  # Lambent could not run it (5xx, not ready, cut off)
    ZERO_CONCURRENCY = "zero-concurrency"  # throttled because reserved concurrency is 0
    GONE = "gone"  # the function or its qualifier no longer exists
    EXPIRED = "expired"  # older than MaximumEventAgeInSeconds before this attempt
    RECURSIVE_LOOP = "recursive-loop"  # stopped: its chain looped through the function


class Action(enum.Enum):
    SUCCEED = "succeed"  # done; OnSuccess destination
    RETRY = "retry"  # back to the queue until `at`
    FAIL = "fail"  # done; OnFailure destination and dead-letter target
    DROP = "drop"  # done; nowhere to send it (logged)


class Condition(enum.Enum):
    """requestContext.condition of the invocation record, AWS's spelling."""

    SUCCESS = "Success"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EVENT_AGE_EXCEEDED = "EventAgeExceeded"
    ZERO_RESERVED_CONCURRENCY = "ZeroReservedConcurrency"


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    response: Response | None = None  # set for SUCCESS and FUNCTION_ERROR
    detail: str = ""  # for logs: the error that made it a throttle or system error


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """The function's error handling (FunctionEventInvokeConfig), defaults AWS's."""

    max_retries: int = DEFAULT_MAX_RETRIES
    max_age_s: float = DEFAULT_MAX_AGE_S


@dataclass(frozen=True, slots=True)
class RetryTiming:
    """The delays. AWS's are base 60 s (1 min, 2 min) and backoff 1 s doubling to 300 s."""

    retry_base_s: float = 60.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    condition: Condition | None
    state: EventState  # the state after this outcome (stored on RETRY, reported otherwise)
    at: float | None = None  # RETRY: when the event is due again


K = OutcomeKind
SUCCEED = Rule(Action.SUCCEED, Condition.SUCCESS)
RETRY = Rule(Action.RETRY)
EXHAUSTED = Rule(Action.FAIL, Condition.RETRIES_EXHAUSTED)
TOO_OLD = Rule(Action.FAIL, Condition.EVENT_AGE_EXCEEDED)
ZERO = Rule(Action.FAIL, Condition.ZERO_RESERVED_CONCURRENCY)
DROP = Rule(Action.DROP)

# (outcome, retries left, time left for the next attempt) -> rule
TABLE: dict[tuple[OutcomeKind, bool, bool], Rule] = {
    (K.SUCCESS, True, True): SUCCEED,
    (K.SUCCESS, True, False): SUCCEED,
    (K.SUCCESS, False, True): SUCCEED,
    (K.SUCCESS, False, False): SUCCEED,
    (K.FUNCTION_ERROR, True, True): RETRY,
    (K.FUNCTION_ERROR, True, False): TOO_OLD,
    (K.FUNCTION_ERROR, False, True): EXHAUSTED,
    (K.FUNCTION_ERROR, False, False): EXHAUSTED,
    # Throttles and system errors do not use up MaximumRetryAttempts; only age ends them.
    (K.THROTTLED, True, True): RETRY,
    (K.THROTTLED, True, False): TOO_OLD,
    (K.THROTTLED, False, True): RETRY,
    (K.THROTTLED, False, False): TOO_OLD,
    (K.SYSTEM_ERROR, True, True): RETRY,
    (K.SYSTEM_ERROR, True, False): TOO_OLD,
    (K.SYSTEM_ERROR, False, True): RETRY,
    (K.SYSTEM_ERROR, False, False): TOO_OLD,
    (K.ZERO_CONCURRENCY, True, True): ZERO,
    (K.ZERO_CONCURRENCY, True, False): ZERO,
    (K.ZERO_CONCURRENCY, False, True): ZERO,
    (K.ZERO_CONCURRENCY, False, False): ZERO,
    (K.GONE, True, True): DROP,
    (K.GONE, True, False): DROP,
    (K.GONE, False, True): DROP,
    (K.GONE, False, False): DROP,
    # Recursive loop detection stopped it (invoke/recursion.py, logged and counted there).
    (K.RECURSIVE_LOOP, True, True): DROP,
    (K.RECURSIVE_LOOP, True, False): DROP,
    (K.RECURSIVE_LOOP, False, True): DROP,
    (K.RECURSIVE_LOOP, False, False): DROP,
    (K.EXPIRED, True, True): TOO_OLD,
    (K.EXPIRED, True, False): TOO_OLD,
    (K.EXPIRED, False, True): TOO_OLD,
    (K.EXPIRED, False, False): TOO_OLD,
}

REACHED_FUNCTION = frozenset({K.SUCCESS, K.FUNCTION_ERROR})
BACKED_OFF = frozenset({K.THROTTLED, K.SYSTEM_ERROR})


def function_retry_delay(attempts: int, timing: RetryTiming) -> float:
    """After the first failed attempt 1 x base (1 min), after the second 2 x base (2 min)."""
    return timing.retry_base_s * max(1, attempts)


def backoff_delay(backoffs: int, timing: RetryTiming) -> float:
    """1 s, 2 s, 4 s, ... up to 5 minutes (with AWS's base and cap)."""
    return float(min(timing.backoff_base_s * 2.0 ** min(backoffs, 62), timing.backoff_max_s))


def expired(state: EventState, now: float, config: RetryConfig) -> bool:
    return now - state.enqueued_at > config.max_age_s


def decide(
    state: EventState,
    outcome: Outcome,
    now: float,
    config: RetryConfig,
    timing: RetryTiming,
) -> Decision:
    kind = outcome.kind
    reached = kind in REACHED_FUNCTION
    attempts = state.attempts + 1 if reached else state.attempts
    if kind is K.FUNCTION_ERROR:
        delay = function_retry_delay(attempts, timing)
    else:
        delay = backoff_delay(state.backoffs, timing)
    retries_left = attempts <= config.max_retries
    in_time = now + delay <= state.enqueued_at + config.max_age_s
    rule = TABLE[(kind, retries_left, in_time)]
    backoffs = state.backoffs + 1 if kind in BACKED_OFF else 0 if reached else state.backoffs
    after = replace(
        state,
        attempts=attempts,
        backoffs=backoffs,
        last_response=outcome.response if outcome.response is not None else state.last_response,
    )
    at = now + delay if rule.action is Action.RETRY else None
    return Decision(rule.action, rule.condition, after, at)
