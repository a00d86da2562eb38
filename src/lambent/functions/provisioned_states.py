"""A provisioned concurrency config's Status (IN_PROGRESS, READY, FAILED) as a table.

PutProvisionedConcurrencyConfig writes IN_PROGRESS (a new or changed config starts over);
from then on the data plane's reconciler drives it: READY once every requested environment
is initialized, back to IN_PROGRESS while it makes more (an environment was lost, or the
server restarted), FAILED when an environment's init fails
(FUNCTION_ERROR_INIT_FAILURE). A FAILED config is retried only after the config changes, or
by a new server, which knows nothing of the failure.
"""

from __future__ import annotations

import enum

from lambent.fsm import IllegalTransition, StateMachine


class ProvisionedStatus(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    IN_PROGRESS = "IN_PROGRESS"
    READY = "READY"
    FAILED = "FAILED"


class ProvisionedEvent(enum.Enum):
    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    CONFIGURED = "configured"  # PutProvisionedConcurrencyConfig
    ALLOCATING = "allocating"  # fewer environments than requested: making more
    ALLOCATED = "allocated"  # every requested environment is initialized
    INIT_FAILED = "init_failed"  # an environment's init failed


class InvalidProvisionedTransition(IllegalTransition):
    pass


P, V = ProvisionedStatus, ProvisionedEvent

LIFECYCLE: StateMachine[ProvisionedStatus, ProvisionedEvent] = StateMachine(
    "provisioned concurrency",
    {
        (P.IN_PROGRESS, V.CONFIGURED): P.IN_PROGRESS,
        (P.IN_PROGRESS, V.ALLOCATING): P.IN_PROGRESS,
        (P.IN_PROGRESS, V.ALLOCATED): P.READY,
        (P.IN_PROGRESS, V.INIT_FAILED): P.FAILED,
        (P.READY, V.CONFIGURED): P.IN_PROGRESS,
        (P.READY, V.ALLOCATING): P.IN_PROGRESS,
        (P.READY, V.ALLOCATED): P.READY,
        (P.FAILED, V.CONFIGURED): P.IN_PROGRESS,
        (P.FAILED, V.ALLOCATING): P.IN_PROGRESS,  # a new server tries again
    },
    initial=P.IN_PROGRESS,
    error=InvalidProvisionedTransition,
)

transition = LIFECYCLE.transition
allowed = LIFECYCLE.allowed


def shown(doc: dict[str, object]) -> ProvisionedStatus:
    """The status a stored config shows (IN_PROGRESS if it shows none it should)."""
    try:
        return ProvisionedStatus(str(doc.get("Status")))
    except ValueError:
        return ProvisionedStatus.IN_PROGRESS
