"""The execution environment lifecycle, as a transition table (diagram: docs/LIFECYCLES.md).

Lambda's phases are Init (or Restore, for SnapStart), Invoke and Shutdown; between
invocations the environment is frozen. Here every phase an environment can be in is a state,
including the short ones that used to hide in flags:

- RESTORED: forked from a SnapStart snapshot; its restore phase (after-restore hooks) runs
  instead of init, until the runtime's first /next.
- RETURNING: the invocation is answered and its lease given back, but the runtime has not
  called /next again yet. The pool waits for it rather than starting a new environment.
- FROZEN: idle long enough (`freeze_after_s`) that its processes are stopped; it is thawed
  (back to IDLE) before its next invocation.

A timeout, a crash or a failed init leaves a DORMANT environment (no process; the next
invocation re-runs init inside the invoke: AWS's "suppressed init"). Retiring a busy
environment lets the invocation end and the runtime park first (DRAINING); RETIRING ends in
DEAD once the sandbox is torn down.
"""

from __future__ import annotations

import enum

from lambent.fsm import IllegalTransition as _FsmIllegal
from lambent.fsm import StateMachine


class EnvState(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    STARTING = "starting"  # spawned; init running until the runtime's first /next
    RESTORED = "restored"  # spawned from a SnapStart snapshot; the restore phase is running
    IDLE = "idle"  # the runtime is parked in /next, thawed
    FROZEN = "frozen"  # idle, with every process stopped
    BUSY = "busy"  # running one invocation
    RETURNING = "returning"  # answered; the runtime is on its way back to /next
    DORMANT = "dormant"  # no process: the next invocation runs init first
    DRAINING = "draining"  # retired while busy or returning: ends after the runtime parks
    RETIRING = "retiring"  # the sandbox is being torn down
    DEAD = "dead"


class EnvEvent(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    RESTORE = "restore"  # the sandbox forked it from a snapshot
    INIT_OK = "init_ok"  # the runtime's first /next
    INIT_FAILED = "init_failed"  # init error, crash or timeout during init/restore
    ACQUIRE = "acquire"  # an invocation starts
    FREEZE = "freeze"
    THAW = "thaw"
    ANSWERED = "answered"  # the invocation ended with the process alive
    RELEASE = "release"  # the runtime called /next after an invocation
    RESET = "reset"  # the invocation failed and took the process with it
    CRASH = "crash"  # the process died while no invocation was waiting on it
    RETIRE = "retire"  # keep-alive expiry, maximum lifetime, code update, shutdown
    DESTROYED = "destroyed"  # the sandbox is gone


class IllegalTransition(_FsmIllegal):
    pass


S, E = EnvState, EnvEvent

LIFECYCLE: StateMachine[EnvState, EnvEvent] = StateMachine(
    "execution environment",
    {
        (S.STARTING, E.RESTORE): S.RESTORED,
        (S.STARTING, E.INIT_OK): S.IDLE,
        (S.STARTING, E.INIT_FAILED): S.DORMANT,
        (S.STARTING, E.RETIRE): S.RETIRING,
        (S.RESTORED, E.INIT_OK): S.IDLE,
        (S.RESTORED, E.INIT_FAILED): S.DORMANT,
        (S.RESTORED, E.RETIRE): S.RETIRING,
        (S.IDLE, E.ACQUIRE): S.BUSY,
        (S.IDLE, E.FREEZE): S.FROZEN,
        (S.IDLE, E.CRASH): S.DORMANT,
        (S.IDLE, E.RETIRE): S.RETIRING,
        (S.FROZEN, E.THAW): S.IDLE,
        (S.FROZEN, E.CRASH): S.DORMANT,
        (S.FROZEN, E.RETIRE): S.RETIRING,
        (S.BUSY, E.ANSWERED): S.RETURNING,
        (S.BUSY, E.RESET): S.DORMANT,
        (S.BUSY, E.RETIRE): S.DRAINING,
        (S.RETURNING, E.RELEASE): S.IDLE,
        (S.RETURNING, E.CRASH): S.DORMANT,
        (S.RETURNING, E.RETIRE): S.DRAINING,
        (S.DORMANT, E.ACQUIRE): S.BUSY,
        (S.DORMANT, E.CRASH): S.DORMANT,
        (S.DORMANT, E.RETIRE): S.RETIRING,
        (S.DRAINING, E.ANSWERED): S.DRAINING,
        (S.DRAINING, E.RELEASE): S.RETIRING,
        (S.DRAINING, E.RESET): S.RETIRING,
        (S.DRAINING, E.CRASH): S.RETIRING,
        (S.DRAINING, E.RETIRE): S.DRAINING,
        (S.RETIRING, E.CRASH): S.RETIRING,
        (S.RETIRING, E.RETIRE): S.RETIRING,
        (S.RETIRING, E.DESTROYED): S.DEAD,
        (S.DEAD, E.CRASH): S.DEAD,
        (S.DEAD, E.RETIRE): S.DEAD,
        (S.DEAD, E.DESTROYED): S.DEAD,
    },
    initial=S.STARTING,
    error=IllegalTransition,
)

transition = LIFECYCLE.transition
allowed = LIFECYCLE.allowed

# An environment in one of these can be handed to an invocation (a frozen one is thawed).
TAKEABLE = frozenset({S.IDLE, S.FROZEN})
# No invocation and no process start in flight: a dying process is nobody else's business.
BETWEEN = frozenset({S.IDLE, S.FROZEN, S.RETURNING})
