"""The function version lifecycle as Lambda reports it: State plus LastUpdateStatus.

One table, one pure `transition()`. A create starts `Pending` and becomes `Active` once the
code (and layers) are really extracted; an update keeps `Active` and runs `InProgress` until
the new code is ready. A SnapStart version stays `Pending` until the data plane has taken its
snapshot. Anything not in the table is a conflict the caller turns into AWS's error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lambent.errors import ResourceConflict


class Event(Enum):
    PROVISIONED = "provisioned"  # code extracted: the version can run
    PROVISION_FAILED = "provision_failed"
    UPDATE_STARTED = "update_started"
    UPDATE_SUCCEEDED = "update_succeeded"
    UPDATE_FAILED = "update_failed"
    SNAPSHOT_READY = "snapshot_ready"  # SnapStart: the data plane took the snapshot
    SNAPSHOT_FAILED = "snapshot_failed"


@dataclass(frozen=True)
class Status:
    state: str  # Pending | Active | Failed
    update: str | None = None  # None (never updated) | InProgress | Successful | Failed
    snapstart: bool = False  # a SnapStart version waits for its snapshot before Active


PENDING = Status("Pending")
PENDING_SNAPSHOT = Status("Pending", snapstart=True)
ACTIVE = Status("Active", "Successful")
ACTIVE_UPDATING = Status("Active", "InProgress")
ACTIVE_UPDATE_FAILED = Status("Active", "Failed")
FAILED = Status("Failed", "Failed")

TABLE: dict[tuple[Status, Event], Status] = {
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
}


class InvalidTransition(ValueError):
    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"no transition from {status} on {event.value}")
        self.status = status
        self.event = event


def transition(status: Status, event: Event) -> Status:
    try:
        return TABLE[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


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
    return Status(state, str(update) if update else None, snapstart)


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
