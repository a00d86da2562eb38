"""Waiting for State Active / LastUpdateStatus Successful, with a deadline on a fake clock."""

from __future__ import annotations

import io
from typing import Any

import pytest

from lambent.cli.errors import CliError
from lambent.cli.progress import StatusLine
from lambent.cli.waiting import MAX_DELAY_S, readiness, wait_until_ready


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def answers(*configs: dict[str, Any]) -> Any:
    queue = list(configs)

    def fetch() -> dict[str, Any]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return fetch


def quiet() -> StatusLine:
    return StatusLine(io.StringIO(), enabled=False, in_place=False)


@pytest.mark.parametrize(
    ("config", "ready", "failed"),
    [
        ({}, True, False),
        ({"State": "Active", "LastUpdateStatus": "Successful"}, True, False),
        ({"State": "Inactive", "LastUpdateStatus": "Successful"}, True, False),
        ({"State": "Pending", "LastUpdateStatus": "Successful"}, False, False),
        ({"State": "Active", "LastUpdateStatus": "InProgress"}, False, False),
        ({"State": "Failed", "StateReasonCode": "X", "StateReason": "why"}, False, True),
        ({"State": "Active", "LastUpdateStatus": "Failed"}, False, True),
    ],
)
def test_readiness(config: dict[str, Any], ready: bool, failed: bool) -> None:
    state = readiness(config)
    assert state.ready is ready
    assert (state.failure is not None) is failed


def test_waits_until_settled_backing_off_to_a_second() -> None:
    t = FakeTime()
    pending = {"State": "Pending", "LastUpdateStatus": "InProgress"}
    done = {"State": "Active", "LastUpdateStatus": "Successful", "FunctionArn": "arn"}
    fetch = answers(*([pending] * 8), done)
    got = wait_until_ready("fn", fetch, quiet(), timeout_s=60, clock=t.clock, sleep=t.sleep)
    assert got["FunctionArn"] == "arn"
    assert t.sleeps[0] < 0.1
    assert t.sleeps == sorted(t.sleeps)
    assert max(t.sleeps) == MAX_DELAY_S


def test_gives_up_at_the_deadline() -> None:
    t = FakeTime()
    fetch = answers({"State": "Pending"})
    with pytest.raises(CliError, match=r"fn: still not ready after 5 s \(State Pending"):
        wait_until_ready("fn", fetch, quiet(), timeout_s=5, clock=t.clock, sleep=t.sleep)
    assert 5 <= t.now < 5.5


def test_failure_reason_is_reported() -> None:
    t = FakeTime()
    fetch = answers(
        {"State": "Pending"},
        {"State": "Failed", "StateReasonCode": "InvalidRuntime", "StateReason": "nope"},
    )
    with pytest.raises(CliError, match=r"failed to become active \(InvalidRuntime: nope\)"):
        wait_until_ready("fn", fetch, quiet(), clock=t.clock, sleep=t.sleep)


def test_a_settled_first_answer_needs_no_fetch() -> None:
    def fetch() -> dict[str, Any]:
        raise AssertionError("not needed")

    assert wait_until_ready("fn", fetch, quiet(), first={"State": "Active"}) == {"State": "Active"}


def test_spinner_text_while_waiting() -> None:
    t = FakeTime()
    out = io.StringIO()
    status = StatusLine(out, enabled=True, in_place=True, clock=t.clock)
    fetch = answers({"State": "Pending"}, {"State": "Active"})
    wait_until_ready("fn", fetch, status, clock=t.clock, sleep=t.sleep)
    assert "waiting for fn: State Pending, LastUpdateStatus Successful" in out.getvalue()
    assert out.getvalue().endswith("\r")  # cleared before anything else is printed
