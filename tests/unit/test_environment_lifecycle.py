"""Every (state, event) pair of the execution environment lifecycle."""

from __future__ import annotations

import itertools

import pytest

from lambent.environments.lifecycle import EnvEvent, EnvState, IllegalTransition, transition

S, E = EnvState, EnvEvent

# The lifecycle as prose, one rule per line, independent of the table it checks.
RULES: dict[tuple[EnvState, EnvEvent], EnvState] = {}


def rule(states: tuple[EnvState, ...], event: EnvEvent, to: EnvState | None) -> None:
    for st in states:
        RULES[(st, event)] = to if to is not None else st


rule((S.STARTING,), E.INIT_OK, S.IDLE)
rule((S.STARTING,), E.INIT_FAILED, S.DORMANT)
# Anything able to take work can be acquired; a dormant one re-runs init inside the invoke.
rule((S.STARTING, S.IDLE, S.DORMANT), E.ACQUIRE, S.BUSY)
rule((S.BUSY,), E.RELEASE, S.IDLE)
rule((S.DRAINING,), E.RELEASE, S.RETIRING)
rule((S.BUSY,), E.RESET, S.DORMANT)
rule((S.DRAINING,), E.RESET, S.RETIRING)
# A process dying outside an invocation leaves a dormant environment.
rule((S.STARTING, S.IDLE, S.BUSY, S.DORMANT), E.CRASH, S.DORMANT)
rule((S.DRAINING, S.RETIRING), E.CRASH, S.RETIRING)
rule((S.DEAD,), E.CRASH, S.DEAD)
# Retiring a busy environment lets its invocation finish first.
rule((S.STARTING, S.IDLE, S.DORMANT, S.RETIRING), E.RETIRE, S.RETIRING)
rule((S.BUSY, S.DRAINING), E.RETIRE, S.DRAINING)
rule((S.DEAD,), E.RETIRE, S.DEAD)
rule((S.RETIRING, S.DEAD), E.DESTROYED, S.DEAD)


@pytest.mark.parametrize(("state", "event"), list(itertools.product(EnvState, EnvEvent)))
def test_every_pair(state: EnvState, event: EnvEvent) -> None:
    want = RULES.get((state, event))
    if want is None:
        with pytest.raises(IllegalTransition):
            transition(state, event)
    else:
        assert transition(state, event) is want
