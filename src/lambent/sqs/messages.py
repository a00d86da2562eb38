"""A message's content: AWS's checks and the digests SDKs verify.

`MD5OfMessageAttributes` is AWS's: for each attribute in name order, the name, the data
type (each as a 4-byte big-endian length and UTF-8 bytes), one transport byte (1 string or
number, 2 binary) and the value (length and bytes); MD5 of the whole. boto3 recomputes it
(and the body's) on every SendMessage and ReceiveMessage and fails the call on a mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from collections.abc import Mapping
from typing import Any

from lambent.sqs.errors import InvalidMessageContents, InvalidParameterValue, MissingParameter

MAX_ATTRIBUTES = 10
# Characters AWS accepts in a body and in string values (the XML 1.0 set).
_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTR_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_TYPE = re.compile(r"(String|Number|Binary)(\..+)?")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def attributes_md5(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """AWS's digest of message (or message system) attributes; "" for none."""
    if not attributes:
        return ""
    out = bytearray()
    for name in sorted(attributes):
        value = attributes[name]
        data_type = str(value["DataType"])
        out += _field(name.encode()) + _field(data_type.encode())
        if data_type.startswith("Binary"):
            out += b"\x02" + _field(_binary(value["BinaryValue"]))
        else:
            out += b"\x01" + _field(str(value["StringValue"]).encode())
    return md5_hex(bytes(out))


def _binary(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return base64.b64decode(str(value))


def check_body(body: str | None) -> str:
    if body is None or body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if _INVALID.search(body):
        raise InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | "
            "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )
    return body


def check_attributes(attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """AWS's rules for message attributes; their size in bytes (counted in the message's)."""
    if not attributes:
        return 0
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}]."
        )
    size = 0
    for name, value in attributes.items():
        _check_name(name)
        data_type = str(value.get("DataType") or "")
        if not _TYPE.fullmatch(data_type):
            raise InvalidParameterValue(
                f"The message attribute '{name}' has an invalid message attribute type, the "
                "set of supported type prefixes is Binary, Number, and String."
            )
        kind = "Binary" if data_type.startswith("Binary") else "String"
        raw = value.get(f"{kind}Value")
        if raw is None or raw in ("", b""):
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{kind}'."
            )
        data = _binary(raw) if kind == "Binary" else str(raw).encode()
        if kind == "String" and _INVALID.search(str(raw)):
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' value contains invalid characters."
            )
        if data_type.startswith("Number") and not _is_number(str(raw)):
            raise InvalidParameterValue(
                f"Can't cast the value of message (user) attribute '{name}' to a number."
            )
        size += len(name.encode()) + len(data_type.encode()) + len(data)
    return size


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_name(name: str) -> None:
    lowered = name.lower()
    if (
        not _ATTR_NAME.fullmatch(name)
        or name.startswith(".")
        or name.endswith(".")
        or ".." in name
        or lowered.startswith(("aws.", "amazon."))
    ):
        raise InvalidParameterValue(
            f"Message (user) attribute name '{name}' is invalid. Attribute names can contain "
            "only letters, numbers, hyphens, underscores and periods, may not start or end "
            "with a period, may not contain consecutive periods and may not start with "
            "'AWS.' or 'Amazon.'."
        )


def attributes_json(attributes: Mapping[str, Mapping[str, Any]] | None) -> str:
    """Message attributes as stored: JSON, binary values base64, only the set members."""
    if not attributes:
        return ""
    out: dict[str, dict[str, str]] = {}
    for name, value in attributes.items():
        item = {"DataType": str(value["DataType"])}
        if "BinaryValue" in value and value["BinaryValue"] is not None:
            item["BinaryValue"] = base64.b64encode(_binary(value["BinaryValue"])).decode()
        if "StringValue" in value and value["StringValue"] is not None:
            item["StringValue"] = str(value["StringValue"])
        out[name] = item
    return json.dumps(out, separators=(",", ":"))


def attributes_from_json(text: str) -> dict[str, dict[str, Any]]:
    """Stored message attributes back as the API shapes them (binary values as bytes)."""
    if not text:
        return {}
    out: dict[str, dict[str, Any]] = json.loads(text)
    for value in out.values():
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
    return out
