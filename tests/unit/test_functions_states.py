"""Every (status, event) pair of the function lifecycle table."""

from __future__ import annotations

from typing import Any

import pytest

from lambent.errors import ResourceConflict
from lambent.functions import states
from lambent.functions.states import Event, Status

ALL_STATUSES = list(Status)
PAIRS = [(status, event) for status in Status for event in Event]


def expected(status: Status, event: Event) -> Status | None:
    """The rules, from Lambda's "function states" documentation, in terms of the two fields
    AWS shows (State, LastUpdateStatus). None: the event does not apply."""
    if status.state == "Failed":
        return None  # a failed create is final: the function can only be deleted
    if status.state == "Pending":
        if status.snapstart:
            # A SnapStart version is Active only once its snapshot is taken; its code being
            # ready is not enough.
            ends = {
                Event.PROVISIONED: status,
                Event.SNAPSHOT_READY: states.ACTIVE,
                Event.SNAPSHOT_FAILED: states.FAILED,
                Event.PROVISION_FAILED: states.FAILED,
            }
            return ends.get(event)
        return {Event.PROVISIONED: states.ACTIVE, Event.PROVISION_FAILED: states.FAILED}.get(event)
    # Active: an update keeps State Active and shows its progress in LastUpdateStatus.
    if status.update == "InProgress":
        if event in (Event.UPDATE_SUCCEEDED, Event.PROVISIONED):
            return states.ACTIVE
        if event in (Event.UPDATE_FAILED, Event.PROVISION_FAILED):
            return states.ACTIVE_UPDATE_FAILED
        return None  # one update at a time
    if event is Event.UPDATE_STARTED:
        return states.ACTIVE_UPDATING  # after a success or a failed update alike
    if status.update == "Successful" and event in (Event.PROVISIONED, Event.SNAPSHOT_READY):
        return status  # a late report (after a restart) changes nothing
    return None


@pytest.mark.parametrize(("status", "event"), PAIRS, ids=str)
def test_every_pair(status: Status, event: Event) -> None:
    want = expected(status, event)
    if want is None:
        with pytest.raises(states.InvalidTransition):
            states.transition(status, event)
        assert event not in states.allowed(status)
    else:
        assert states.transition(status, event) is want
        assert event in states.allowed(status)


def test_nothing_goes_back_to_pending_and_updates_keep_active() -> None:
    for (status, event), after in states.LIFECYCLE.pairs():
        if after.state == "Pending":
            assert status is after, (status, event)
        if status.state == "Active":
            assert after.state == "Active", (status, event)


def test_every_status_is_reachable_from_a_create_or_a_publish() -> None:
    reached = set().union(*(states.LIFECYCLE.reachable(s) for s in states.LIFECYCLE.entries))
    assert reached == set(Status)
    assert states.LIFECYCLE.final() == (states.FAILED,)


def test_a_document_outside_the_table_reads_as_its_state() -> None:
    assert states.from_config({"State": "Active"}) is states.ACTIVE
    assert states.from_config({"State": "Failed"}) is states.FAILED


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
