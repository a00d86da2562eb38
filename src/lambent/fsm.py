"""Lifecycles as transition tables: one small helper every lifecycle in Lambent shares.

A lifecycle is a table `(state, event) -> next state`, nothing else: a pair that is not in
the table is illegal, and `transition()` raises the lifecycle's own typed error for it. The
same table answers `allowed(state)` and draws its Mermaid diagram, so the code, the checks
and the documentation cannot disagree (`docs/LIFECYCLES.md` holds the generated diagrams and
a test keeps it equal to what the tables draw).

Hand-written rather than a state-machine library on purpose: the Runtime API and the
environment take two to four transitions per warm invoke, and here a transition is one dict
lookup. Callbacks, guards and hierarchy are left to the code that owns each lifecycle.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

S = TypeVar("S", bound=Hashable)
E = TypeVar("E", bound=Hashable)


class IllegalTransition(Exception):
    """`event` is not allowed in `state`. Each lifecycle raises its own subclass."""

    def __init__(self, machine: str, state: object, event: object) -> None:
        super().__init__(f"{machine}: {_name(event)} is not allowed in state {_name(state)}")
        self.machine = machine
        self.state = state
        self.event = event


def _name(item: object) -> str:
    if isinstance(item, enum.Enum):
        return str(item.value)
    return str(item)


def _ident(item: object) -> str:
    """A Mermaid state id: enum member names, else the text with non-word characters out."""
    if isinstance(item, enum.Enum):
        return item.name
    return "".join(ch if ch.isalnum() else "_" for ch in str(item))


class StateMachine(Generic[S, E]):
    """One lifecycle: its table, its initial state (and any other state a thing can be
    created in: `entries`) and the error its illegal pairs raise."""

    def __init__(
        self,
        name: str,
        table: Mapping[tuple[S, E], S],
        *,
        initial: S,
        entries: Iterable[S] = (),
        error: type[IllegalTransition] = IllegalTransition,
        label: Callable[[S], str] | None = None,
        event_label: Callable[[E], str] = _name,
        states: Iterable[S] = (),
    ) -> None:
        self.name = name
        self.initial = initial
        self.entries: tuple[S, ...] = (initial, *(e for e in entries if e != initial))
        self._table: dict[tuple[S, E], S] = dict(table)
        self._error = error
        self._label = label
        self._event_label = event_label
        ordered: dict[S, None] = dict.fromkeys(self.entries)
        ordered.update(dict.fromkeys(states))
        for (state, _), target in self._table.items():
            ordered.setdefault(state)
            ordered.setdefault(target)
        self.states: tuple[S, ...] = tuple(ordered)
        events: dict[E, None] = {}
        for _, event in self._table:
            events.setdefault(event)
        self.events: tuple[E, ...] = tuple(events)
        self._allowed: dict[S, frozenset[E]] = {
            state: frozenset(e for (s, e) in self._table if s == state) for state in self.states
        }

    def transition(self, state: S, event: E) -> S:
        """The next state; the lifecycle's error if the table has no such pair."""
        try:
            return self._table[(state, event)]
        except KeyError:
            raise self._error(self.name, state, event) from None

    def can(self, state: S, event: E) -> bool:
        return (state, event) in self._table

    def allowed(self, state: S) -> frozenset[E]:
        """The events `state` accepts (empty for a state the table does not know)."""
        return self._allowed.get(state, frozenset())

    def final(self) -> tuple[S, ...]:
        """States nothing leaves: every event they accept keeps them where they are."""
        return tuple(
            s for s in self.states if all(self._table[(s, e)] == s for e in self._allowed[s])
        )

    def pairs(self) -> Iterable[tuple[tuple[S, E], S]]:
        return self._table.items()

    def reachable(self, start: S) -> set[S]:
        """Every state some sequence of legal events leads to from `start` (itself too)."""
        seen, todo = {start}, [start]
        while todo:
            state = todo.pop()
            for event in self.allowed(state):
                target = self._table[(state, event)]
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def diagram(self) -> str:
        """The table as a Mermaid `stateDiagram-v2`, one edge per (from, to) pair with the
        events that take it; states in the table's order, so the text is stable."""
        lines = ["stateDiagram-v2"]
        if self._label is not None:
            for state in self.states:
                lines.append(f'    state "{self._label(state)}" as {_ident(state)}')
        lines.extend(f"    [*] --> {_ident(state)}" for state in self.entries)
        edges: dict[tuple[S, S], list[str]] = {}
        for (state, event), target in self._table.items():
            edges.setdefault((state, target), []).append(self._event_label(event))
        for (state, target), names in edges.items():
            lines.append(f"    {_ident(state)} --> {_ident(target)}: {', '.join(names)}")
        for state in self.final():
            lines.append(f"    {_ident(state)} --> [*]")
        return "\n".join(lines) + "\n"
