"""The execution environment lifecycle against rules written from Lambda's documented
behaviour, over every (state, event) pair. The rules never read the table."""

from __future__ import annotations

import itertools

import pytest

from lambent.environments.lifecycle import (
    LIFECYCLE,
    EnvEvent,
    EnvState,
    IllegalTransition,
    transition,
)
from lambent.fsm import IllegalTransition as AnyIllegal

S, E = EnvState, EnvEvent
PAIRS = list(itertools.product(EnvState, EnvEvent))

# Groups, by what is true of an environment in each state.
INITIALIZING = {S.STARTING, S.RESTORED}  # init (or restore) is running, nobody invokes it
WITH_INVOCATION = {S.BUSY}  # exactly one invocation is running
AFTER_INVOCATION = {S.RETURNING}  # answered; the runtime is not back in /next yet
GOING = {S.DRAINING, S.RETIRING, S.DEAD}  # retired: never serves again


def expected(state: EnvState, event: EnvEvent) -> EnvState | None:
    """Where `event` takes an environment in `state`; None when it must be refused."""
    if state is S.DEAD:
        # Shutdown is final: a late retire, crash report or teardown changes nothing.
        return S.DEAD if event in (E.RETIRE, E.CRASH, E.DESTROYED) else None
    if event is E.RESTORE:
        # Only a process that is just starting can turn out to be a snapshot's restore.
        return S.RESTORED if state is S.STARTING else None
    if event in (E.INIT_OK, E.INIT_FAILED):
        # Init (or restore) ends once: in a runtime parked in /next, or in no process.
        if state in INITIALIZING:
            return S.IDLE if event is E.INIT_OK else S.DORMANT
        return None
    if event is E.ACQUIRE:
        # One invocation at a time; a dormant environment re-runs init inside the invoke
        # ("suppressed init"); a frozen one is thawed first.
        return S.BUSY if state in (S.IDLE, S.DORMANT) else None
    if event is E.FREEZE:
        return S.FROZEN if state is S.IDLE else None  # only an idle environment is frozen
    if event is E.THAW:
        return S.IDLE if state is S.FROZEN else None
    if event is E.ANSWERED:
        # The invocation that was running ends; a retired one keeps draining.
        return {S.BUSY: S.RETURNING, S.DRAINING: S.DRAINING}.get(state)
    if event is E.RELEASE:
        # The runtime is back in /next after an answered invocation.
        return {S.RETURNING: S.IDLE, S.DRAINING: S.RETIRING}.get(state)
    if event is E.RESET:
        # A timeout, crash or OOM during the invocation destroys the process.
        return {S.BUSY: S.DORMANT, S.DRAINING: S.RETIRING}.get(state)
    if event is E.CRASH:
        # A process dying with no invocation waiting on it; a retired one just goes.
        if state in (S.IDLE, S.FROZEN, S.RETURNING, S.DORMANT):
            return S.DORMANT
        return S.RETIRING if state in (S.DRAINING, S.RETIRING) else None
    if event is E.RETIRE:
        # An invocation in progress (or its runtime on its way back) is let finish first.
        if state in WITH_INVOCATION | AFTER_INVOCATION | {S.DRAINING}:
            return S.DRAINING
        return S.RETIRING
    if event is E.DESTROYED:
        return S.DEAD if state is S.RETIRING else None
    raise AssertionError(event)


@pytest.mark.parametrize(("state", "event"), PAIRS)
def test_every_pair_follows_the_rules(state: EnvState, event: EnvEvent) -> None:
    want = expected(state, event)
    if want is None:
        with pytest.raises(IllegalTransition) as refused:
            transition(state, event)
        assert isinstance(refused.value, AnyIllegal)
        assert (refused.value.state, refused.value.event) == (state, event)
        assert event not in LIFECYCLE.allowed(state)
    else:
        assert transition(state, event) is want
        assert event in LIFECYCLE.allowed(state)


def test_dead_is_final_and_reachable_from_everywhere() -> None:
    assert LIFECYCLE.final() == (S.DEAD,)
    for state in EnvState:
        assert S.DEAD in LIFECYCLE.reachable(state), state


def test_every_state_is_reachable_from_a_new_environment() -> None:
    assert LIFECYCLE.initial is S.STARTING
    assert LIFECYCLE.reachable(S.STARTING) == set(EnvState)


def test_a_retired_environment_never_serves_again() -> None:
    for state in GOING:
        assert not LIFECYCLE.reachable(state) & {S.IDLE, S.FROZEN, S.BUSY, S.DORMANT}, state


def test_an_invocation_only_ever_starts_on_a_thawed_idle_or_dormant_environment() -> None:
    into_busy = {s for (s, _), to in LIFECYCLE.pairs() if to is S.BUSY and s is not S.BUSY}
    assert into_busy == {S.IDLE, S.DORMANT}
