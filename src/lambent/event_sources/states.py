"""An event source mapping's State as a table.

AWS's states: Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting. The
transient ones end when the poller has started or stopped; until a poller exists
(docs/SPECIFICATION.md, "Event source mappings") the service applies the poller's answer
at once, so a read after a write already shows the settled state, while the write's own
answer shows the transient one, as AWS's does.
"""

from __future__ import annotations

import enum

from lambent.fsm import IllegalTransition, StateMachine


class MappingState(enum.Enum):
    __hash__ = object.__hash__

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


class MappingEvent(enum.Enum):
    __hash__ = object.__hash__

    ENABLE = "enable"  # UpdateEventSourceMapping(Enabled=True)
    DISABLE = "disable"  # UpdateEventSourceMapping(Enabled=False)
    UPDATE = "update"  # any other change
    DELETE = "delete"  # DeleteEventSourceMapping
    POLLING = "polling"  # the poller runs with the mapping's settings
    STOPPED = "stopped"  # the poller has stopped


class InvalidMappingTransition(IllegalTransition):
    pass


M, E = MappingState, MappingEvent
_SETTLED = (M.ENABLED, M.DISABLED)

LIFECYCLE: StateMachine[MappingState, MappingEvent] = StateMachine(
    "event source mapping",
    {
        (M.CREATING, E.POLLING): M.ENABLED,
        (M.CREATING, E.STOPPED): M.DISABLED,
        (M.ENABLING, E.POLLING): M.ENABLED,
        (M.DISABLING, E.STOPPED): M.DISABLED,
        (M.UPDATING, E.POLLING): M.ENABLED,
        (M.UPDATING, E.STOPPED): M.DISABLED,
        (M.ENABLED, E.DISABLE): M.DISABLING,
        (M.DISABLED, E.ENABLE): M.ENABLING,
        (M.ENABLED, E.ENABLE): M.UPDATING,
        (M.DISABLED, E.DISABLE): M.UPDATING,
        **{(state, E.UPDATE): M.UPDATING for state in _SETTLED},
        **{(state, E.DELETE): M.DELETING for state in _SETTLED},
    },
    initial=M.CREATING,
    error=InvalidMappingTransition,
)

transition = LIFECYCLE.transition
allowed = LIFECYCLE.allowed


def settle(state: MappingState, enabled: bool) -> MappingState:
    """Where a transient state goes once the poller has done what the mapping asks."""
    return transition(state, E.POLLING if enabled else E.STOPPED)
