"""The function version lifecycle as Lambda reports it: State plus LastUpdateStatus.

One table (`LIFECYCLE`, drawn in docs/LIFECYCLES.md), one pure `transition()`. A create
starts `Pending` and becomes `Active` once the code (and layers) are really extracted; an
update keeps `Active` and runs `InProgress` until the new code is ready. A SnapStart version
stays `Pending` until the data plane has taken its snapshot. Anything not in the table is a
conflict the caller turns into AWS's error.
"""

from __future__ import annotations

import uuid
from enum import Enum

from lambent.errors import ResourceConflict
from lambent.fsm import IllegalTransition, StateMachine


class Event(Enum):
    PROVISIONED = "provisioned"  # code extracted: the version can run
    PROVISION_FAILED = "provision_failed"
    UPDATE_STARTED = "update_started"
    UPDATE_SUCCEEDED = "update_succeeded"
    UPDATE_FAILED = "update_failed"
    SNAPSHOT_READY = "snapshot_ready"  # SnapStart: the data plane took the snapshot
    SNAPSHOT_FAILED = "snapshot_failed"


class Status(Enum):
    """State plus LastUpdateStatus (None: never updated), and whether a SnapStart version
    still waits for its snapshot before it is Active."""

    __hash__ = object.__hash__  # members are singletons; Enum's own hash is slow

    PENDING = ("Pending", None, False)
    PENDING_SNAPSHOT = ("Pending", None, True)
    ACTIVE = ("Active", "Successful", False)
    ACTIVE_UPDATING = ("Active", "InProgress", False)
    ACTIVE_UPDATE_FAILED = ("Active", "Failed", False)
    FAILED = ("Failed", "Failed", False)

    @property
    def state(self) -> str:
        return str(self.value[0])

    @property
    def update(self) -> str | None:
        update = self.value[1]
        return None if update is None else str(update)

    @property
    def snapstart(self) -> bool:
        return bool(self.value[2])

    def describe(self) -> str:
        text = f"State {self.state}"
        if self.update is not None:
            text += f", LastUpdateStatus {self.update}"
        return text + (" (awaiting snapshot)" if self.snapstart else "")


PENDING = Status.PENDING
PENDING_SNAPSHOT = Status.PENDING_SNAPSHOT
ACTIVE = Status.ACTIVE
ACTIVE_UPDATING = Status.ACTIVE_UPDATING
ACTIVE_UPDATE_FAILED = Status.ACTIVE_UPDATE_FAILED
FAILED = Status.FAILED


class InvalidTransition(IllegalTransition, ValueError):
    """The event does not apply to the function's status; the caller decides what AWS says."""


LIFECYCLE: StateMachine[Status, Event] = StateMachine(
    "function version",
    {
        (PENDING, Event.PROVISIONED): ACTIVE,
        (PENDING, Event.PROVISION_FAILED): FAILED,
        (PENDING_SNAPSHOT, Event.PROVISIONED): PENDING_SNAPSHOT,
        (PENDING_SNAPSHOT, Event.SNAPSHOT_READY): ACTIVE,
        (PENDING_SNAPSHOT, Event.SNAPSHOT_FAILED): FAILED,
        (PENDING_SNAPSHOT, Event.PROVISION_FAILED): FAILED,
        (ACTIVE, Event.UPDATE_STARTED): ACTIVE_UPDATING,
        (ACTIVE_UPDATE_FAILED, Event.UPDATE_STARTED): ACTIVE_UPDATING,
        (ACTIVE_UPDATING, Event.UPDATE_SUCCEEDED): ACTIVE,
        (ACTIVE_UPDATING, Event.UPDATE_FAILED): ACTIVE_UPDATE_FAILED,
        (ACTIVE_UPDATING, Event.PROVISIONED): ACTIVE,
        (ACTIVE_UPDATING, Event.PROVISION_FAILED): ACTIVE_UPDATE_FAILED,
        (ACTIVE, Event.SNAPSHOT_READY): ACTIVE,
        (ACTIVE, Event.PROVISIONED): ACTIVE,
    },
    initial=PENDING,  # CreateFunction
    entries=(PENDING_SNAPSHOT, ACTIVE),  # PublishVersion with SnapStart, and without
    error=InvalidTransition,
    states=list(Status),
    label=Status.describe,
)

transition = LIFECYCLE.transition
allowed = LIFECYCLE.allowed
_BY_FIELDS = {status.value: status for status in Status}
_BY_STATE = {"Pending": PENDING, "Active": ACTIVE, "Failed": FAILED}


REASONS: dict[Status, tuple[str, str]] = {
    PENDING: ("The function is being created.", "Creating"),
    PENDING_SNAPSHOT: ("The function is being created.", "Creating"),
}
UPDATE_REASON = ("The function is being created.", "Creating")


def check_mutable(status: Status, arn: str) -> None:
    """Lambda refuses changes while a create or an update has not settled (AWS's messages)."""
    if status.state != "Active":
        raise ResourceConflict(
            "The operation cannot be performed at this time. "
            f"The function is currently in the following state: {status.state}"
        )
    if status.update == "InProgress":
        raise ResourceConflict(
            f"The operation cannot be performed at this time. An update is in progress for "
            f"resource: {arn}"
        )


def from_config(config: dict[str, object]) -> Status:
    state = str(config.get("State") or "Active")
    update = config.get("LastUpdateStatus")
    snapstart = state == "Pending" and bool(config.get("_SnapshotPending"))
    found = _BY_FIELDS.get((state, str(update) if update else None, snapstart))
    # A combination no table state has (a document written by hand): go by State alone.
    return found if found is not None else _BY_STATE.get(state, ACTIVE)


def new_revision() -> str:
    return str(uuid.uuid4())


def enter(config: dict[str, object], status: Status, reason: tuple[str, str] | None = None) -> None:
    """Move a configuration into `status` with a new RevisionId: Lambda gives every change
    of State or LastUpdateStatus its own revision (an update answers one with InProgress and
    reaches another when Successful), so a RevisionId read before the change no longer
    passes as current."""
    apply(config, status, reason)
    config["RevisionId"] = new_revision()


def apply(config: dict[str, object], status: Status, reason: tuple[str, str] | None = None) -> None:
    """Write a status into a FunctionConfiguration document, with AWS's reason fields."""
    for key in (
        "StateReason",
        "StateReasonCode",
        "LastUpdateStatusReason",
        "LastUpdateStatusReasonCode",
        "_SnapshotPending",
    ):
        config.pop(key, None)
    config["State"] = status.state
    if status.update is None:
        config.pop("LastUpdateStatus", None)
    else:
        config["LastUpdateStatus"] = status.update
    if status.snapstart:
        config["_SnapshotPending"] = True
    state_reason = REASONS.get(status)
    if state_reason is not None:
        config["StateReason"], config["StateReasonCode"] = state_reason
    if status.update == "InProgress":
        config["LastUpdateStatusReason"], config["LastUpdateStatusReasonCode"] = UPDATE_REASON
    if reason is not None:
        if status.state == "Failed":
            config["StateReason"], config["StateReasonCode"] = reason
        if status.update == "Failed":
            config["LastUpdateStatusReason"], config["LastUpdateStatusReasonCode"] = reason
