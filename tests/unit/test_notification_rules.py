"""The pure rules of SNS subscriptions and S3 notification configurations."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambent.errors import S3InvalidArgument
from lambent.s3.notify import config, records
from lambent.sns import subscriptions
from lambent.sns.errors import InvalidParameter
from lambent.sns.messages import parse_structure


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("in/a b=c.txt", "in/a+b%3Dc.txt"),
        ("x~y*z", "x%7Ey*z"),
        ("ü.txt", "%C3%BC.txt"),
        ("a+b", "a%2Bb"),
    ],
)
def test_keys_are_encoded_as_s3_encodes_them(key: str, encoded: str) -> None:
    assert records.encode_key(key) == encoded


def _cfg(
    prefix: str, suffix: str = "", events: tuple[str, ...] = ("s3:ObjectCreated:*",)
) -> dict[str, Any]:
    rules = [{"Name": "prefix", "Value": prefix}, {"Name": "suffix", "Value": suffix}]
    return {
        "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Events": list(events),
        "Filter": {"Key": {"FilterRules": rules}},
    }


def test_overlapping_prefixes_sharing_an_event_are_refused() -> None:
    with pytest.raises(S3InvalidArgument, match="Configurations overlap"):
        config.normalize({"LambdaFunctionConfigurations": [_cfg("a/"), _cfg("a/b/")]})
    ok = config.normalize({"LambdaFunctionConfigurations": [_cfg("a/"), _cfg("b/")]})
    assert all(c["Id"] for c in ok["LambdaFunctionConfigurations"])
    created, removed = _cfg("a/"), _cfg("a/", events=("s3:ObjectRemoved:*",))
    config.normalize({"LambdaFunctionConfigurations": [created, removed]})


def test_a_target_matches_event_family_prefix_and_suffix() -> None:
    (target,) = config.targets({"LambdaFunctionConfigurations": [_cfg("in/", ".csv")]})
    assert target.wants("ObjectCreated:Put", "in/x.csv")
    assert target.wants("ObjectCreated:CompleteMultipartUpload", "in/x.csv")
    assert not target.wants("ObjectRemoved:Delete", "in/x.csv")
    assert not target.wants("ObjectCreated:Put", "out/x.csv")


def test_filter_policies_by_attributes_and_body() -> None:
    attrs = {"FilterPolicy": json.dumps({"color": ["red"]})}
    red = {"color": {"DataType": "String", "StringValue": "red"}}
    assert subscriptions.passes(attrs, "m", red)
    assert not subscriptions.passes(attrs, "m", {})
    body = {**attrs, "FilterPolicyScope": "MessageBody"}
    assert subscriptions.passes(body, json.dumps({"color": "red"}), {})
    assert not subscriptions.passes(body, "not json", {})
    with pytest.raises(InvalidParameter, match=r"^Invalid parameter: FilterPolicy: "):
        subscriptions.check_attribute("sqs", "FilterPolicy", json.dumps({"a": [{"prefix": 1}]}))
    with pytest.raises(InvalidParameter, match="raw message delivery"):
        subscriptions.check_attribute("lambda", "RawMessageDelivery", "true")


def test_message_structure_needs_a_default() -> None:
    assert parse_structure('{"default": "d", "sqs": "q"}') == {"default": "d", "sqs": "q"}
    with pytest.raises(InvalidParameter, match="No default entry"):
        parse_structure('{"sqs": "q"}')
