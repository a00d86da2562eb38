"""EventBridge's input transformation (AWS's documented examples and quoting rules) and
the dispatcher's retry policy and dead letters, in virtual time on the memory store with a
fake sender."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.events.catalog import EventCatalog, Rule
from lambent.events.dispatcher import Dispatcher
from lambent.events.errors import EventsValidation
from lambent.events.outbox import Outbox
from lambent.events.targets import DeliveryFailed
from lambent.events.transform import check_target_input, render, target_input
from lambent.store.memory import MemoryStore

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "n": 3, "tags": ["a"]},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "n": "$.detail.n"}


def transformed(template: str, paths: Mapping[str, str] = PATHS) -> str:
    target = {"InputTransformer": {"InputPathsMap": dict(paths), "InputTemplate": template}}
    return target_input(target, EVENT, "arn:rule", "rule")


def test_aws_documented_templates() -> None:
    # EventBridge user guide, "Input transformation": a string, JSON, and mixed values.
    assert transformed('"<instance> is in state <state>"') == '"i-0123456789 is in state RUNNING"'
    got = json.loads(transformed('{"instance": <instance>, "state": [9, <state>, true]}'))
    assert got == {"instance": "i-0123456789", "state": [9, "RUNNING", True]}
    got = json.loads(transformed('{"text": "n is <n>", "n": <n>}'))
    assert got == {"text": "n is 3", "n": 3}


def test_plain_text_template_and_reserved_variables() -> None:
    assert transformed("Instance <instance> is <state>") == "Instance i-0123456789 is RUNNING"
    assert transformed("<aws.events.rule-name> at <aws.events.event.ingestion-time>") == (
        "rule at 2015-11-11T21:29:54Z"
    )
    assert json.loads(transformed('{"e": <aws.events.event>}'))["e"] == EVENT


def test_missing_paths_and_quotes_inside_values() -> None:
    assert json.loads(transformed('{"x": <nope>}', {"nope": "$.detail.absent"})) == {"x": None}
    value = {"q": '$.detail["state"]'}
    assert render('{"x": "<q>"}', {"q": 'say "hi"'}) == '{"x": "say \\"hi\\""}'
    assert json.loads(transformed('{"s": <q>}', value)) == {"s": "RUNNING"}


def test_input_and_input_path() -> None:
    assert target_input({"Input": '{"a": 1}'}, EVENT, "", "") == '{"a": 1}'
    assert target_input({"InputPath": "$.detail.tags[0]"}, EVENT, "", "") == '"a"'
    assert json.loads(target_input({}, EVENT, "", "")) == EVENT


def test_put_targets_checks() -> None:
    with pytest.raises(EventsValidation):
        check_target_input({"Input": "{}", "InputPath": "$"})
    with pytest.raises(EventsValidation):
        check_target_input({"Input": "not json"})
    with pytest.raises(EventsValidation):
        check_target_input({"InputPath": "detail"})


class FakeSender:
    """Fails the first `fails` sends to each target; records what reached the DLQ."""

    def __init__(self, fails: int, retry: bool = True) -> None:
        self.fails = fails
        self.retry = retry
        self.attempts = 0
        self.dead: list[Mapping[str, Mapping[str, Any]] | None] = []
        self.sns_not_delivered = 0

    async def send(self, target: Mapping[str, Any], body: str, rule: Any, event: Any) -> None:
        self.attempts += 1
        if self.attempts <= self.fails:
            raise DeliveryFailed("ServiceUnavailable", "down", retry=self.retry)

    async def sqs(
        self,
        arn: str,
        body: str,
        source_arn: str,
        params: Any,
        attributes: Mapping[str, Mapping[str, Any]] | None,
    ) -> None:
        self.dead.append(attributes)


async def _world(sender: FakeSender, policy: dict[str, int]) -> tuple[Dispatcher, Outbox]:
    clock = ManualClock()
    store = MemoryStore()
    catalog = EventCatalog(store, clock)
    target = {"Id": "t", "Arn": "arn:aws:sqs:us-east-1:1:q", "RetryPolicy": policy}
    target["DeadLetterConfig"] = {"Arn": "arn:aws:sqs:us-east-1:1:dlq"}
    await catalog.put_rule(
        Rule(
            "1",
            "us-east-1",
            "default",
            "r",
            "arn:r",
            '{"source": ["s"]}',
            None,
            "ENABLED",
            None,
            None,
            (target,),
        )
    )
    outbox = Outbox(store, "node")
    dispatcher = Dispatcher(outbox, catalog, sender, clock)  # type: ignore[arg-type]
    event = {**EVENT, "source": "s"}
    await outbox.add([{"event": event, "account": "1", "bus": "default"}], clock.time())
    return dispatcher, outbox


async def _drain(dispatcher: Dispatcher, outbox: Outbox) -> None:
    clock = dispatcher.clock
    assert isinstance(clock, ManualClock)
    while await outbox.count():
        due = await dispatcher.run_once()
        if due > clock.time():
            clock.advance(due - clock.time())


def test_retries_then_delivers() -> None:
    sender = FakeSender(fails=2)

    async def run() -> None:
        dispatcher, outbox = await _world(sender, {"MaximumRetryAttempts": 3})
        await _drain(dispatcher, outbox)
        assert dispatcher.stats.delivered == 1 and dispatcher.stats.retried == 2

    asyncio.run(run())
    assert sender.attempts == 3 and sender.dead == []


def test_dead_letter_after_the_retry_policy() -> None:
    sender = FakeSender(fails=100)

    async def run() -> None:
        dispatcher, outbox = await _world(sender, {"MaximumRetryAttempts": 2})
        await _drain(dispatcher, outbox)

    asyncio.run(run())
    assert sender.attempts == 3  # the first attempt and 2 retries
    (attrs,) = sender.dead
    assert attrs is not None
    assert attrs["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttemptsExhausted"
    assert attrs["RETRY_ATTEMPTS"]["StringValue"] == "2"
    assert attrs["ERROR_CODE"]["StringValue"] == "ServiceUnavailable"


def test_event_age_ends_retries_and_permanent_failures_are_not_retried() -> None:
    sender = FakeSender(fails=100)

    async def run() -> None:
        dispatcher, outbox = await _world(sender, {"MaximumEventAgeInSeconds": 60})
        await _drain(dispatcher, outbox)

    asyncio.run(run())
    assert sender.dead[0] is not None
    assert sender.dead[0]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == (
        "MaximumEventAgeExhausted"
    )
    assert sender.attempts == 6  # 0, 1, 3, 7, 15, 31 s; the next (63 s) is past 60 s
    permanent = FakeSender(fails=100, retry=False)

    async def run_permanent() -> None:
        dispatcher, outbox = await _world(permanent, {"MaximumRetryAttempts": 5})
        await _drain(dispatcher, outbox)

    asyncio.run(run_permanent())
    assert permanent.attempts == 1 and len(permanent.dead) == 1
