"""What a subscriber receives: AWS's Lambda record (`Records[].Sns`) and the JSON
envelope SQS and HTTP subscribers get (pure).

Signature and SigningCertUrl: Lambent holds no AWS certificate, so `Signature` is the
base64 SHA-256 digest of AWS's canonical string-to-sign for the message (a checksum a
consumer can recompute, not a signature it can verify) and `SigningCertUrl` names
`/_lambent/sns/SimpleNotificationService.pem` on Lambent's endpoint, which serves no
certificate. SignatureVersion is "1" as AWS's default."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambent.sns.errors import invalid

CERT_PATH = "/_lambent/sns/SimpleNotificationService.pem"


@dataclass(frozen=True, slots=True)
class Published:
    """One accepted message, as every subscription sees it before its own shaping."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None
    timestamp: float
    attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    structure: Mapping[str, str] | None = None  # MessageStructure=json: per protocol

    def body_for(self, protocol: str) -> str:
        if self.structure is None:
            return self.message
        return self.structure.get(protocol, self.structure["default"])


def parse_structure(message: str) -> dict[str, str]:
    """MessageStructure=json: a JSON object of strings with a `default` entry."""
    try:
        parsed = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(parsed, dict):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in parsed:
        raise invalid("Message Structure - No default entry in JSON message body")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()}


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def wire_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Message attributes as SNS shows them to subscribers: {"Type", "Value"}."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        kind = str(attr.get("DataType", "String"))
        if "BinaryValue" in attr and attr["BinaryValue"] is not None:
            raw = attr["BinaryValue"]
            value = base64.b64encode(raw).decode() if isinstance(raw, bytes) else str(raw)
        else:
            value = str(attr.get("StringValue", ""))
        out[name] = {"Type": kind, "Value": value}
    return out


def signature(fields: Mapping[str, Any]) -> str:
    """AWS's string-to-sign for a Notification, digested (see the module's note)."""
    keys = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    text = "".join(f"{k}\n{fields[k]}\n" for k in keys if fields.get(k) is not None)
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def envelope(msg: Published, protocol: str, subscription_arn: str, endpoint: str) -> dict[str, Any]:
    """The JSON document SQS (not raw) and HTTP subscribers get, AWS's key casing."""
    doc: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": msg.message_id,
        "TopicArn": msg.topic_arn,
    }
    if msg.subject is not None:
        doc["Subject"] = msg.subject
    doc["Message"] = msg.body_for(protocol)
    doc["Timestamp"] = iso_time(msg.timestamp)
    doc["SignatureVersion"] = "1"
    doc["Signature"] = signature(doc)
    doc["SigningCertURL"] = endpoint + CERT_PATH
    doc["UnsubscribeURL"] = f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"
    if msg.attributes:
        doc["MessageAttributes"] = wire_attributes(msg.attributes)
    return doc


def lambda_event(msg: Published, subscription_arn: str, endpoint: str) -> dict[str, Any]:
    """The event a subscribed function is invoked with (AWS's `aws:sns` record)."""
    env = envelope(msg, "lambda", subscription_arn, endpoint)
    sns = {
        "Type": "Notification",
        "MessageId": msg.message_id,
        "TopicArn": msg.topic_arn,
        "Subject": msg.subject,
        "Message": env["Message"],
        "Timestamp": env["Timestamp"],
        "SignatureVersion": "1",
        "Signature": env["Signature"],
        "SigningCertUrl": env["SigningCertURL"],
        "UnsubscribeUrl": env["UnsubscribeURL"],
        "MessageAttributes": wire_attributes(msg.attributes),
    }
    record = {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": sns,
    }
    return {"Records": [record]}
