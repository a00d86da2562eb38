"""The Runtime API state of one execution environment, as a transition table.

Pure: no I/O, no clock. The server feeds it events (the runtime's requests, the
environment layer's deliveries, the process dying) and gets back the next state and the
answer the runtime's request deserves, with the status codes Lambda's Runtime Interface
Emulator uses: 202 accepted, 400 InvalidRequestID (checked before this table, since it
depends on the id and not on the state), 403 InvalidStateTransition, 413 for an oversized
response.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class RtState(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    STARTING = "starting"  # process started, init running, no /next yet
    READY = "ready"  # the runtime is parked in /next with nothing to do
    INVOKING = "invoking"  # /next returned an event; waiting for /response or /error
    RESPONDED = "responded"  # the invocation is answered; waiting for the next /next
    INIT_FAILED = "init_failed"  # the runtime reported /runtime/init/error
    DEAD = "dead"  # the process exited or was killed


class RtEvent(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    NEXT = "next"  # GET /runtime/invocation/next
    DELIVER = "deliver"  # the environment layer hands over an invocation
    RESPONSE = "response"  # POST /runtime/invocation/{id}/response (current id)
    RESPONSE_TOO_LARGE = "response_too_large"  # the same, over the size limit
    ERROR = "error"  # POST /runtime/invocation/{id}/error (current id)
    INIT_ERROR = "init_error"  # POST /runtime/init/error
    EXIT = "exit"  # the process is gone (exit, crash, kill, reset)


class Answer(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    PARK = 0  # hold the request until there is an invocation (only for NEXT)
    ACCEPTED = 202
    INVALID_STATE = 403
    TOO_LARGE = 413
    NONE = -1  # not a runtime request (DELIVER, EXIT)


class InvalidTransition(Exception):
    """The environment layer asked for something the protocol does not allow."""


@dataclass(frozen=True)
class Outcome:
    state: RtState
    answer: Answer


S, E, A = RtState, RtEvent, Answer

_TABLE: dict[tuple[RtState, RtEvent], Outcome] = {
    # STARTING: the first /next ends init.
    (S.STARTING, E.NEXT): Outcome(S.READY, A.PARK),
    (S.STARTING, E.RESPONSE): Outcome(S.STARTING, A.INVALID_STATE),
    (S.STARTING, E.RESPONSE_TOO_LARGE): Outcome(S.STARTING, A.INVALID_STATE),
    (S.STARTING, E.ERROR): Outcome(S.STARTING, A.INVALID_STATE),
    (S.STARTING, E.INIT_ERROR): Outcome(S.INIT_FAILED, A.ACCEPTED),
    (S.STARTING, E.EXIT): Outcome(S.DEAD, A.NONE),
    # READY: parked in /next. A new /next replaces a parked one whose client went away.
    (S.READY, E.NEXT): Outcome(S.READY, A.PARK),
    (S.READY, E.DELIVER): Outcome(S.INVOKING, A.NONE),
    (S.READY, E.RESPONSE): Outcome(S.READY, A.INVALID_STATE),
    (S.READY, E.RESPONSE_TOO_LARGE): Outcome(S.READY, A.INVALID_STATE),
    (S.READY, E.ERROR): Outcome(S.READY, A.INVALID_STATE),
    (S.READY, E.INIT_ERROR): Outcome(S.READY, A.INVALID_STATE),
    (S.READY, E.EXIT): Outcome(S.DEAD, A.NONE),
    # INVOKING: one answer per invocation.
    (S.INVOKING, E.NEXT): Outcome(S.INVOKING, A.INVALID_STATE),
    (S.INVOKING, E.RESPONSE): Outcome(S.RESPONDED, A.ACCEPTED),
    (S.INVOKING, E.RESPONSE_TOO_LARGE): Outcome(S.RESPONDED, A.TOO_LARGE),
    (S.INVOKING, E.ERROR): Outcome(S.RESPONDED, A.ACCEPTED),
    (S.INVOKING, E.INIT_ERROR): Outcome(S.INVOKING, A.INVALID_STATE),
    (S.INVOKING, E.EXIT): Outcome(S.DEAD, A.NONE),
    # RESPONDED: a second answer, or an error after a response, is refused.
    (S.RESPONDED, E.NEXT): Outcome(S.READY, A.PARK),
    (S.RESPONDED, E.RESPONSE): Outcome(S.RESPONDED, A.INVALID_STATE),
    (S.RESPONDED, E.RESPONSE_TOO_LARGE): Outcome(S.RESPONDED, A.INVALID_STATE),
    (S.RESPONDED, E.ERROR): Outcome(S.RESPONDED, A.INVALID_STATE),
    (S.RESPONDED, E.INIT_ERROR): Outcome(S.RESPONDED, A.INVALID_STATE),
    (S.RESPONDED, E.EXIT): Outcome(S.DEAD, A.NONE),
    # INIT_FAILED: the runtime is expected to exit; nothing else is accepted.
    (S.INIT_FAILED, E.NEXT): Outcome(S.INIT_FAILED, A.INVALID_STATE),
    (S.INIT_FAILED, E.RESPONSE): Outcome(S.INIT_FAILED, A.INVALID_STATE),
    (S.INIT_FAILED, E.RESPONSE_TOO_LARGE): Outcome(S.INIT_FAILED, A.INVALID_STATE),
    (S.INIT_FAILED, E.ERROR): Outcome(S.INIT_FAILED, A.INVALID_STATE),
    (S.INIT_FAILED, E.INIT_ERROR): Outcome(S.INIT_FAILED, A.INVALID_STATE),
    (S.INIT_FAILED, E.EXIT): Outcome(S.DEAD, A.NONE),
    # DEAD: a request that raced the process' death is refused.
    (S.DEAD, E.NEXT): Outcome(S.DEAD, A.INVALID_STATE),
    (S.DEAD, E.RESPONSE): Outcome(S.DEAD, A.INVALID_STATE),
    (S.DEAD, E.RESPONSE_TOO_LARGE): Outcome(S.DEAD, A.INVALID_STATE),
    (S.DEAD, E.ERROR): Outcome(S.DEAD, A.INVALID_STATE),
    (S.DEAD, E.INIT_ERROR): Outcome(S.DEAD, A.INVALID_STATE),
    (S.DEAD, E.EXIT): Outcome(S.DEAD, A.NONE),
}


def transition(state: RtState, event: RtEvent) -> Outcome:
    """The next state and the answer; raises InvalidTransition for a forbidden DELIVER."""
    outcome = _TABLE.get((state, event))
    if outcome is None:
        raise InvalidTransition(f"{event.value} is not allowed in state {state.value}")
    return outcome


def allowed(state: RtState, event: RtEvent) -> bool:
    return (state, event) in _TABLE
