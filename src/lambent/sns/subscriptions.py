"""Subscription attributes: which ones may be set, their checks, and the compiled filter
(pure). Errors are SNS's `Invalid parameter: ...` wordings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambent.event_patterns import CompiledPattern, PatternError, compile_pattern
from lambent.event_patterns.sns import attributes_view
from lambent.sns.errors import invalid

PROTOCOLS = frozenset({"lambda", "sqs"})  # http/https: not yet (SPECIFICATION)
SETTABLE = frozenset(
    {
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "DeliveryPolicy",
        "SubscriptionRoleArn",
    }
)
SCOPES = ("MessageAttributes", "MessageBody")


def check_endpoint(protocol: str, endpoint: str | None) -> str:
    if protocol not in PROTOCOLS:
        raise invalid("Amazon SNS does not support this protocol string: " + protocol)
    if not endpoint:
        raise invalid("Endpoint")
    service = {"lambda": "lambda", "sqs": "sqs"}.get(protocol)
    if service is not None:
        parts = endpoint.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != service:
            raise invalid(f"{protocol.upper() if protocol == 'sqs' else 'Lambda'} endpoint ARN")
    elif not endpoint.lower().startswith(protocol + "://"):
        raise invalid("Endpoint must match the specified protocol")
    return endpoint


def check_attribute(protocol: str, name: str, value: str) -> None:
    """Refuse what SNS refuses when the attribute is set (Subscribe or Set...)."""
    if name not in SETTABLE:
        raise invalid(f"Attribute Name: {name}")
    if name == "FilterPolicy" and value:
        try:
            compile_pattern(value, dialect="sns")
        except PatternError as exc:
            raise invalid(f"FilterPolicy: {exc.reason}") from None
    elif name == "FilterPolicyScope" and value not in SCOPES:
        raise invalid(
            "Attribute Name: FilterPolicyScope, Reason: Invalid value ["
            + value
            + "] for FilterPolicyScope. Valid values are MessageAttributes, MessageBody."
        )
    elif name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise invalid(
                "RawMessageDelivery: Invalid value [" + value + "]. Must be true or false."
            )
        if protocol == "lambda" and value.lower() == "true":
            raise invalid(
                "Attribute Name: RawMessageDelivery, Reason: Delivery protocol [lambda] "
                "does not support raw message delivery."
            )
    elif name == "RedrivePolicy":
        check_redrive(value)


def check_redrive(value: str) -> None:
    try:
        doc = json.loads(value)
    except ValueError:
        raise invalid("RedrivePolicy: failed to parse JSON.") from None
    arn = doc.get("deadLetterTargetArn") if isinstance(doc, dict) else None
    if not isinstance(arn, str) or arn.split(":")[2:3] != ["sqs"]:
        raise invalid("RedrivePolicy: deadLetterTargetArn is missing or not an SQS ARN.")


def compiled_filter(attributes: Mapping[str, str]) -> CompiledPattern | None:
    policy = attributes.get("FilterPolicy")
    if not policy:
        return None
    scope = attributes.get("FilterPolicyScope", "MessageAttributes")
    return compile_pattern(policy, dialect="sns" if scope == "MessageAttributes" else "sns-body")


def passes(
    attributes: Mapping[str, str], message: str, message_attributes: Mapping[str, Any]
) -> bool:
    """Does the subscription's filter policy let this message through?"""
    pattern = compiled_filter(attributes)
    if pattern is None:
        return True
    if attributes.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes":
        return pattern.matches(attributes_view(message_attributes))
    try:
        body = json.loads(message)
    except ValueError:
        return False
    return isinstance(body, dict) and pattern.matches(body)
