"""RedrivePolicy and RedriveAllowPolicy: AWS's JSON, checked and normalized. Pure."""

from __future__ import annotations

import json
from typing import Any

from lambent.sqs import names
from lambent.sqs.errors import InvalidParameterValue, invalid_value

MAX_RECEIVE_COUNT = (1, 1000)
MAX_SOURCE_ARNS = 10


def _doc(name: str, text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise invalid_value(name, text, "Invalid JSON.") from None
    if not isinstance(doc, dict):
        raise invalid_value(name, text, "Invalid JSON.")
    return doc


def redrive_target(text: str) -> tuple[str, str]:
    """(the policy as AWS returns it, the dead-letter queue's ARN)."""
    doc = _doc("RedrivePolicy", text)
    target = doc.get("deadLetterTargetArn")
    count = doc.get("maxReceiveCount")
    if not isinstance(target, str) or count is None:
        raise invalid_value(
            "RedrivePolicy",
            text,
            "Redrive policy does not contain mandatory attribute: "
            + ("deadLetterTargetArn." if not isinstance(target, str) else "maxReceiveCount."),
        )
    try:
        number = int(count)
    except (TypeError, ValueError):
        number = 0
    low, high = MAX_RECEIVE_COUNT
    if not low <= number <= high:
        raise invalid_value(
            "RedrivePolicy",
            text,
            f"Invalid value for maxReceiveCount: {count}, valid values "
            f"are from {low} to {high} both inclusive.",
        )
    if names.parse_arn(target) is None:
        raise invalid_value("RedrivePolicy", text, "Invalid value for deadLetterTargetArn.")
    normalized = json.dumps(
        {"deadLetterTargetArn": target, "maxReceiveCount": number}, separators=(",", ":")
    )
    return normalized, target


def max_receives(text: str) -> tuple[int, str]:
    doc = json.loads(text)
    return int(doc["maxReceiveCount"]), str(doc["deadLetterTargetArn"])


def check_redrive_allow(text: str) -> str:
    doc = _doc("RedriveAllowPolicy", text)
    permission = doc.get("redrivePermission")
    sources = doc.get("sourceQueueArns")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise invalid_value(
            "RedriveAllowPolicy",
            text,
            "Invalid value for redrivePermission: "
            f"{permission}, valid values are allowAll, denyAll, byQueue.",
        )
    if permission == "byQueue":
        if not isinstance(sources, list) or not sources:
            raise InvalidParameterValue(
                f"Value {text} for parameter RedriveAllowPolicy is invalid. Reason: "
                "sourceQueueArns must be specified when redrivePermission is byQueue."
            )
        if len(sources) > MAX_SOURCE_ARNS:
            raise invalid_value(
                "RedriveAllowPolicy", text, "Number of sourceQueueArns exceeds the maximum of 10."
            )
    elif sources:
        raise invalid_value(
            "RedriveAllowPolicy",
            text,
            "sourceQueueArns can be specified only when redrivePermission is byQueue.",
        )
    out: dict[str, Any] = {"redrivePermission": permission}
    if sources:
        out["sourceQueueArns"] = sources
    return json.dumps(out, separators=(",", ":"))
