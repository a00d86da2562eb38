"""The shared state-machine helper, on a small lifecycle of its own (a door)."""

from __future__ import annotations

import enum

import pytest

from lambent.fsm import IllegalTransition, StateMachine


class Door(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"
    GONE = "gone"


class Act(enum.Enum):
    OPEN = "open"
    CLOSE = "close"
    LOCK = "lock"
    UNLOCK = "unlock"
    REMOVE = "remove"


class DoorError(IllegalTransition):
    pass


D, A = Door, Act
DOOR = StateMachine(
    "door",
    {
        (D.CLOSED, A.OPEN): D.OPEN,
        (D.OPEN, A.CLOSE): D.CLOSED,
        (D.CLOSED, A.LOCK): D.LOCKED,
        (D.LOCKED, A.UNLOCK): D.CLOSED,
        (D.OPEN, A.REMOVE): D.GONE,
        (D.CLOSED, A.REMOVE): D.GONE,
        (D.GONE, A.REMOVE): D.GONE,
    },
    initial=D.CLOSED,
    error=DoorError,
)


def test_transition_follows_the_table_and_refuses_the_rest_with_the_typed_error() -> None:
    assert DOOR.transition(D.CLOSED, A.OPEN) is D.OPEN
    with pytest.raises(DoorError) as refused:
        DOOR.transition(D.LOCKED, A.OPEN)
    assert (refused.value.machine, refused.value.state, refused.value.event) == (
        "door",
        D.LOCKED,
        A.OPEN,
    )
    assert str(refused.value) == "door: open is not allowed in state locked"


def test_allowed_final_and_reachable() -> None:
    assert DOOR.allowed(D.CLOSED) == {A.OPEN, A.LOCK, A.REMOVE}
    assert DOOR.allowed(D.GONE) == {A.REMOVE}
    assert DOOR.can(D.OPEN, A.CLOSE) and not DOOR.can(D.OPEN, A.LOCK)
    assert DOOR.final() == (D.GONE,)
    assert DOOR.reachable(D.LOCKED) == set(Door)
    assert DOOR.reachable(D.GONE) == {D.GONE}
    assert DOOR.states[0] is D.CLOSED and set(DOOR.states) == set(Door)


def test_diagram_is_mermaid_with_merged_edges_entries_and_labels() -> None:
    labelled = StateMachine(
        "door",
        dict(DOOR.pairs()),
        initial=D.CLOSED,
        entries=(D.OPEN,),
        label=lambda d: d.value.title(),
    )
    assert labelled.diagram().splitlines() == [
        "stateDiagram-v2",
        '    state "Closed" as CLOSED',
        '    state "Open" as OPEN',
        '    state "Locked" as LOCKED',
        '    state "Gone" as GONE',
        "    [*] --> CLOSED",
        "    [*] --> OPEN",
        "    CLOSED --> OPEN: open",
        "    OPEN --> CLOSED: close",
        "    CLOSED --> LOCKED: lock",
        "    LOCKED --> CLOSED: unlock",
        "    OPEN --> GONE: remove",
        "    CLOSED --> GONE: remove",
        "    GONE --> GONE: remove",
        "    GONE --> [*]",
    ]
