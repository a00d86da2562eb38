"""Queue attributes: AWS's names, defaults and ranges, checked before anything is stored.

Pure. `settable()` checks and normalizes what CreateQueue/SetQueueAttributes were given;
the redrive policies' references to other queues are checked by the service, which can
look queues up. Values are AWS's strings both ways."""

from __future__ import annotations

import json
from collections.abc import Mapping

from lambent.sqs.errors import InvalidAttributeName, InvalidAttributeValue

MAX_MESSAGE_SIZE = 1_048_576  # 1 MiB: AWS's maximum and default since August 2025

# name -> (min, max) for the integer attributes.
_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
_BOOLEANS = {"SqsManagedSseEnabled", "ContentBasedDeduplication", "FifoQueue"}
_CHOICES: dict[str, tuple[str, ...]] = {
    "DeduplicationScope": ("messageGroup", "queue"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
_TEXT = {"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"}
FIFO_ONLY = {"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}
SETTABLE = set(_RANGES) | _BOOLEANS | set(_CHOICES) | _TEXT
COMPUTED = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
)
READABLE = SETTABLE | set(COMPUTED) | {"All"}

STANDARD_DEFAULTS: dict[str, str] = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": str(MAX_MESSAGE_SIZE),
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}


def _invalid(name: str) -> InvalidAttributeValue:
    return InvalidAttributeValue(f"Invalid value for the parameter {name}.")


def _check_one(name: str, value: str) -> str:
    if name in _RANGES:
        low, high = _RANGES[name]
        try:
            number = int(value.strip())
        except ValueError:
            raise _invalid(name) from None
        if not low <= number <= high:
            raise _invalid(name)
        return str(number)
    if name in _BOOLEANS:
        if value.lower() not in ("true", "false"):
            raise _invalid(name)
        return value.lower()
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise _invalid(name)
        return value
    if name == "Policy" and value:
        try:
            doc = json.loads(value)
        except ValueError:
            raise _invalid(name) from None
        if not isinstance(doc, dict):
            raise _invalid(name)
    return value


def settable(given: Mapping[str, str], *, fifo: bool, creating: bool) -> dict[str, str]:
    """The attributes as they will be stored (normalized), or AWS's error."""
    out: dict[str, str] = {}
    for name, value in given.items():
        if name not in SETTABLE or (name in FIFO_ONLY and not fifo):
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name == "FifoQueue" and not creating:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        out[name] = _check_one(name, str(value))
    if creating and "FifoQueue" in out and (out["FifoQueue"] == "true") != fifo:
        raise _invalid("FifoQueue")
    return out


def defaults(fifo: bool) -> dict[str, str]:
    return {**STANDARD_DEFAULTS, **(FIFO_DEFAULTS if fifo else {})}


def first_difference(stored: Mapping[str, str], given: Mapping[str, str]) -> str | None:
    """The first attribute a CreateQueue names with a value the existing queue lacks."""
    for name, value in given.items():
        if stored.get(name, "") != value:
            return name
    return None


def wanted(names: list[str] | None) -> set[str]:
    """Which attributes GetQueueAttributes returns; an unknown name is AWS's error."""
    out: set[str] = set()
    for name in names or []:
        if name not in READABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        out.add(name)
    if "All" in out:
        return set(READABLE) - {"All"}
    return out


def int_attr(attributes: Mapping[str, str], name: str) -> int:
    return int(attributes.get(name, STANDARD_DEFAULTS.get(name, "0")))
