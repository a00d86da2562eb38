"""Every (status, event) pair of the function lifecycle table."""

from __future__ import annotations

from typing import Any

import pytest

from lambent.errors import ResourceConflict
from lambent.functions import states
from lambent.functions.states import Event, Status

ALL_STATUSES = [
    states.PENDING,
    states.PENDING_SNAPSHOT,
    states.ACTIVE,
    states.ACTIVE_UPDATING,
    states.ACTIVE_UPDATE_FAILED,
    states.FAILED,
]

EXPECTED: dict[tuple[Status, Event], Status] = {
    (states.PENDING, Event.PROVISIONED): states.ACTIVE,
    (states.PENDING, Event.PROVISION_FAILED): states.FAILED,
    (states.PENDING_SNAPSHOT, Event.PROVISIONED): states.PENDING_SNAPSHOT,
    (states.PENDING_SNAPSHOT, Event.SNAPSHOT_READY): states.ACTIVE,
    (states.PENDING_SNAPSHOT, Event.SNAPSHOT_FAILED): states.FAILED,
    (states.PENDING_SNAPSHOT, Event.PROVISION_FAILED): states.FAILED,
    (states.ACTIVE, Event.UPDATE_STARTED): states.ACTIVE_UPDATING,
    (states.ACTIVE, Event.SNAPSHOT_READY): states.ACTIVE,
    (states.ACTIVE, Event.PROVISIONED): states.ACTIVE,
    (states.ACTIVE_UPDATE_FAILED, Event.UPDATE_STARTED): states.ACTIVE_UPDATING,
    (states.ACTIVE_UPDATING, Event.UPDATE_SUCCEEDED): states.ACTIVE,
    (states.ACTIVE_UPDATING, Event.UPDATE_FAILED): states.ACTIVE_UPDATE_FAILED,
    (states.ACTIVE_UPDATING, Event.PROVISIONED): states.ACTIVE,
    (states.ACTIVE_UPDATING, Event.PROVISION_FAILED): states.ACTIVE_UPDATE_FAILED,
}


@pytest.mark.parametrize("status", ALL_STATUSES, ids=str)
@pytest.mark.parametrize("event", list(Event), ids=lambda e: e.value)
def test_every_pair(status: Status, event: Event) -> None:
    expected = EXPECTED.get((status, event))
    if expected is None:
        with pytest.raises(states.InvalidTransition):
            states.transition(status, event)
    else:
        assert states.transition(status, event) == expected


def test_apply_and_read_back_round_trip() -> None:
    for status in ALL_STATUSES:
        cfg: dict[str, Any] = {}
        states.apply(cfg, status)
        assert states.from_config(cfg) == status


def test_pending_carries_aws_reason() -> None:
    cfg: dict[str, Any] = {}
    states.apply(cfg, states.PENDING)
    assert cfg["StateReason"] == "The function is being created."
    assert cfg["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in cfg


def test_update_in_progress_reason_and_cleared_after() -> None:
    cfg: dict[str, Any] = {}
    states.apply(cfg, states.ACTIVE_UPDATING)
    assert cfg["LastUpdateStatusReasonCode"] == "Creating"
    states.apply(cfg, states.ACTIVE)
    assert cfg == {"State": "Active", "LastUpdateStatus": "Successful"}


def test_failure_reason_lands_on_state_and_update() -> None:
    cfg: dict[str, Any] = {}
    states.apply(cfg, states.FAILED, ("bad zip", "InvalidZipFileException"))
    assert cfg["StateReasonCode"] == "InvalidZipFileException"
    assert cfg["LastUpdateStatusReason"] == "bad zip"


def test_check_mutable_messages() -> None:
    states.check_mutable(states.ACTIVE, "arn")
    with pytest.raises(ResourceConflict, match="following state: Pending"):
        states.check_mutable(states.PENDING, "arn")
    with pytest.raises(ResourceConflict, match="An update is in progress for resource: arn"):
        states.check_mutable(states.ACTIVE_UPDATING, "arn")
