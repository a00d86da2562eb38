"""AddPermission / RemovePermission: statements in the queue's `Policy`, labelled by Sid,
written as SQS writes them. Pure: the catalog stores the result."""

from __future__ import annotations

import json
from typing import Any

from lambent.sqs.errors import invalid_value
from lambent.sqs.model import QueueRecord

ACTIONS = {
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
}


def _policy(queue: QueueRecord) -> dict[str, Any]:
    text = queue.attributes.get("Policy")
    if not text:
        return {"Version": "2012-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy", "Statement": []}
    doc: dict[str, Any] = json.loads(text)
    if isinstance(doc.get("Statement"), dict):
        doc["Statement"] = [doc["Statement"]]
    doc.setdefault("Statement", [])
    return doc


def added(queue: QueueRecord, label: str, accounts: list[str], actions: list[str]) -> str:
    doc = _policy(queue)
    if any(s.get("Sid") == label for s in doc["Statement"]):
        raise invalid_value("Label", label, "Already exists.")
    for action in actions:
        if action not in ACTIONS:
            raise invalid_value(
                "ActionName", action, "Only the queue owner is allowed to invoke this action."
            )
    principals = [f"arn:aws:iam::{a}:root" for a in accounts]
    doc["Statement"].append(
        {
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": [f"SQS:{a}" for a in actions] if len(actions) > 1 else f"SQS:{actions[0]}",
            "Resource": queue.arn,
        }
    )
    return json.dumps(doc, separators=(",", ":"))


def removed(queue: QueueRecord, label: str) -> str:
    """The policy without the labelled statement ("" when none is left)."""
    doc = _policy(queue)
    kept = [s for s in doc["Statement"] if s.get("Sid") != label]
    if len(kept) == len(doc["Statement"]):
        raise invalid_value("Label", label, "can't find label on existing policy.")
    if not kept:
        return ""
    doc["Statement"] = kept
    return json.dumps(doc, separators=(",", ":"))
