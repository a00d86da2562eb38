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

from lambent.fsm import IllegalTransition, StateMachine


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


class InvalidTransition(IllegalTransition):
    """The environment layer asked for something the protocol does not allow."""


@dataclass(frozen=True)
class Outcome:
    state: RtState
    answer: Answer


S, E, A = RtState, RtEvent, Answer

# Only the legal pairs. A runtime request that is not here is refused with 403 in the state
# it arrived in (RIE's InvalidStateTransition); DELIVER or EXIT not here is a bug above us.
MACHINE: StateMachine[RtState, RtEvent] = StateMachine(
    "Runtime API",
    {
        # STARTING: the first /next ends init; /runtime/init/error fails it.
        (S.STARTING, E.NEXT): S.READY,
        (S.STARTING, E.INIT_ERROR): S.INIT_FAILED,
        (S.STARTING, E.EXIT): S.DEAD,
        # READY: parked in /next. A new /next replaces a parked one whose client went away.
        (S.READY, E.NEXT): S.READY,
        (S.READY, E.DELIVER): S.INVOKING,
        (S.READY, E.EXIT): S.DEAD,
        # INVOKING: one answer per invocation.
        (S.INVOKING, E.RESPONSE): S.RESPONDED,
        (S.INVOKING, E.RESPONSE_TOO_LARGE): S.RESPONDED,
        (S.INVOKING, E.ERROR): S.RESPONDED,
        (S.INVOKING, E.EXIT): S.DEAD,
        # RESPONDED: the next /next parks again.
        (S.RESPONDED, E.NEXT): S.READY,
        (S.RESPONDED, E.EXIT): S.DEAD,
        # INIT_FAILED: the runtime is expected to exit.
        (S.INIT_FAILED, E.EXIT): S.DEAD,
        (S.DEAD, E.EXIT): S.DEAD,
    },
    initial=S.STARTING,
    error=InvalidTransition,
)

# What a legal event answers; every refused runtime request answers INVALID_STATE.
_ANSWERS: dict[RtEvent, Answer] = {
    E.NEXT: A.PARK,
    E.RESPONSE: A.ACCEPTED,
    E.ERROR: A.ACCEPTED,
    E.INIT_ERROR: A.ACCEPTED,
    E.RESPONSE_TOO_LARGE: A.TOO_LARGE,
    E.DELIVER: A.NONE,
    E.EXIT: A.NONE,
}
_FROM_RUNTIME = frozenset({E.NEXT, E.RESPONSE, E.RESPONSE_TOO_LARGE, E.ERROR, E.INIT_ERROR})


def _outcome(state: RtState, event: RtEvent) -> Outcome | None:
    if MACHINE.can(state, event):
        return Outcome(MACHINE.transition(state, event), _ANSWERS[event])
    return Outcome(state, A.INVALID_STATE) if event in _FROM_RUNTIME else None


# Derived once from MACHINE: the server takes three transitions per invoke, each a lookup.
_OUTCOMES: dict[tuple[RtState, RtEvent], Outcome] = {
    (state, event): outcome
    for state in RtState
    for event in RtEvent
    if (outcome := _outcome(state, event)) is not None
}


def transition(state: RtState, event: RtEvent) -> Outcome:
    """The next state and the answer. A refused runtime request keeps the state and answers
    403 (RIE's InvalidStateTransition); a forbidden DELIVER or EXIT raises InvalidTransition."""
    try:
        return _OUTCOMES[(state, event)]
    except KeyError:
        raise InvalidTransition(MACHINE.name, state, event) from None


def allowed(state: RtState) -> frozenset[RtEvent]:
    """The events the protocol accepts in `state` (everything else is refused)."""
    return MACHINE.allowed(state)
