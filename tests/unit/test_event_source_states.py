"""The event source mapping lifecycle against rules written independently of its table,
over every (state, event) pair; and the pure source rules (kinds, checks, defaults)."""

from __future__ import annotations

import pytest

from lambent.errors import InvalidParameterValue
from lambent.event_sources import sources
from lambent.event_sources import states as esm
from lambent.event_sources.sources import SourceKind
from lambent.event_sources.states import MappingEvent as E
from lambent.event_sources.states import MappingState as S

SETTLED = {S.ENABLED, S.DISABLED}


def expected(state: S, event: E) -> S | None:
    """AWS's rules, as its API reference tells them: only a settled mapping takes a
    change; a change of Enabled goes through Enabling/Disabling (or Updating when it
    changes nothing); a transient state ends when the poller has started or stopped."""
    if event is E.DELETE:
        return S.DELETING if state in SETTLED else None
    if event is E.UPDATE:
        return S.UPDATING if state in SETTLED else None
    if event is E.ENABLE:
        return {S.DISABLED: S.ENABLING, S.ENABLED: S.UPDATING}.get(state)
    if event is E.DISABLE:
        return {S.ENABLED: S.DISABLING, S.DISABLED: S.UPDATING}.get(state)
    if event is E.POLLING:
        return S.ENABLED if state in {S.CREATING, S.ENABLING, S.UPDATING} else None
    return S.DISABLED if state in {S.CREATING, S.DISABLING, S.UPDATING} else None


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("event", list(E))
def test_every_pair_follows_the_rules(state: S, event: E) -> None:
    want = expected(state, event)
    if want is None:
        with pytest.raises(esm.InvalidMappingTransition):
            esm.transition(state, event)
    else:
        assert esm.transition(state, event) is want


def test_a_new_mapping_is_creating_and_settles_as_asked() -> None:
    assert esm.LIFECYCLE.initial is S.CREATING
    assert esm.settle(S.CREATING, True) is S.ENABLED
    assert esm.settle(S.CREATING, False) is S.DISABLED


@pytest.mark.parametrize(
    ("arn", "kind"),
    [
        ("arn:aws:sqs:us-east-1:123456789012:q", SourceKind.SQS),
        ("arn:aws:kinesis:us-east-1:123456789012:stream/s", SourceKind.KINESIS),
        ("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", SourceKind.DYNAMODB),
        ("arn:aws:kafka:us-east-1:123456789012:cluster/c/abc", SourceKind.KAFKA),
        ("arn:aws:mq:us-east-1:123456789012:broker:b:id", SourceKind.MQ),
    ],
)
def test_the_source_kind_comes_from_the_arn(arn: str, kind: SourceKind) -> None:
    assert sources.kind_of({"EventSourceArn": arn}) is kind


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"EventSourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t"},
        {"EventSourceArn": "arn:aws:sns:us-east-1:123456789012:topic"},
    ],
)
def test_what_lambda_cannot_read_is_unrecognized(params: dict[str, str]) -> None:
    with pytest.raises(InvalidParameterValue, match=r"^Unrecognized event source\.$"):
        sources.kind_of(params)


def test_a_self_managed_kafka_cluster_is_a_stream() -> None:
    params = {"SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b:9092"]}}}
    kind = sources.kind_of(params)
    assert kind is SourceKind.KAFKA and kind.stream
    with pytest.raises(InvalidParameterValue, match="startingPosition"):
        sources.check_create(kind, params)


def test_no_mapping_has_an_on_success_destination_and_a_queue_no_destination() -> None:
    on_failure = {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}}
    sources.check_destinations(SourceKind.KINESIS, on_failure)
    with pytest.raises(InvalidParameterValue, match="Unsupported DestinationConfig"):
        sources.check_destinations(SourceKind.SQS, on_failure)
    on_success = {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:123456789012:ok"}}
    with pytest.raises(InvalidParameterValue, match="Unsupported DestinationConfig"):
        sources.check_destinations(SourceKind.KINESIS, on_success)
