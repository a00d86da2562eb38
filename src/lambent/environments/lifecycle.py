"""The execution environment lifecycle, as a transition table.

    STARTING --init_ok--> IDLE --acquire--> BUSY --release--> IDLE
        |                  |                  |
    init_failed          crash             reset (timeout, crash, OOM, failed init)
        v                  v                  v
     DORMANT <-------------+------------------+   (no process; the next acquire re-runs
        |                                          init inside the invoke: AWS's
     acquire --> BUSY                              "suppressed init")

A retire (keep-alive expiry, code update, shutdown) of a BUSY environment waits for the
invocation to end (DRAINING). RETIRING ends in DEAD once the sandbox is torn down.
"""

from __future__ import annotations

import enum


class EnvState(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    STARTING = "starting"
    IDLE = "idle"
    BUSY = "busy"
    DORMANT = "dormant"
    DRAINING = "draining"
    RETIRING = "retiring"
    DEAD = "dead"


class EnvEvent(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    INIT_OK = "init_ok"
    INIT_FAILED = "init_failed"
    ACQUIRE = "acquire"
    RELEASE = "release"
    RESET = "reset"
    CRASH = "crash"
    RETIRE = "retire"
    DESTROYED = "destroyed"


class IllegalTransition(Exception):
    pass


S, E = EnvState, EnvEvent

_TABLE: dict[tuple[EnvState, EnvEvent], EnvState] = {
    (S.STARTING, E.INIT_OK): S.IDLE,
    (S.STARTING, E.INIT_FAILED): S.DORMANT,
    (S.STARTING, E.CRASH): S.DORMANT,
    (S.STARTING, E.ACQUIRE): S.BUSY,  # a cold start serving the invocation that caused it
    (S.STARTING, E.RETIRE): S.RETIRING,
    (S.IDLE, E.ACQUIRE): S.BUSY,
    (S.IDLE, E.CRASH): S.DORMANT,
    (S.IDLE, E.RETIRE): S.RETIRING,
    (S.BUSY, E.RELEASE): S.IDLE,
    (S.BUSY, E.RESET): S.DORMANT,
    (S.BUSY, E.CRASH): S.DORMANT,
    (S.BUSY, E.RETIRE): S.DRAINING,
    (S.DORMANT, E.ACQUIRE): S.BUSY,
    (S.DORMANT, E.RETIRE): S.RETIRING,
    (S.DORMANT, E.CRASH): S.DORMANT,
    (S.DRAINING, E.RELEASE): S.RETIRING,
    (S.DRAINING, E.RESET): S.RETIRING,
    (S.DRAINING, E.CRASH): S.RETIRING,
    (S.DRAINING, E.RETIRE): S.DRAINING,
    (S.RETIRING, E.RETIRE): S.RETIRING,
    (S.RETIRING, E.CRASH): S.RETIRING,
    (S.RETIRING, E.DESTROYED): S.DEAD,
    (S.DEAD, E.RETIRE): S.DEAD,
    (S.DEAD, E.CRASH): S.DEAD,
    (S.DEAD, E.DESTROYED): S.DEAD,
}


def transition(state: EnvState, event: EnvEvent) -> EnvState:
    try:
        return _TABLE[(state, event)]
    except KeyError:
        raise IllegalTransition(f"{event.value} in state {state.value}") from None


def allowed(state: EnvState, event: EnvEvent) -> bool:
    return (state, event) in _TABLE
