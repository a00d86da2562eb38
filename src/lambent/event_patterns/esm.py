"""Lambda's FilterCriteria: up to 5 patterns, OR'ed, each matched against a record whose
data field (`body` for SQS, `data` for Kinesis, DynamoDB and MQ) is read as JSON when it is
JSON, as Lambda documents ("Control which events Lambda sends to your function").

A body that is not JSON stays a string: a pattern on it as a string (`{"body": ["x"]}`)
can match, a pattern on its properties cannot, so such a message is filtered out. A JSON
body is an object, so a string pattern on `body` cannot match it either.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambent.event_patterns.compile import CompiledPattern


def esm_view(record: Mapping[str, Any], key: str, *, base64_data: bool = False) -> dict[str, Any]:
    """A copy of the record with `key` parsed as JSON where it is JSON (an object or array);
    `base64_data` decodes it first (Kinesis and MQ carry their data base64-encoded)."""
    view = dict(record)
    raw = view.get(key)
    if not isinstance(raw, str):
        return view
    text = raw
    if base64_data:
        try:
            text = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return view
        view[key] = text
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        return view
    if isinstance(parsed, (dict, list)):
        view[key] = parsed
    return view


def esm_matches(view: Mapping[str, Any], patterns: Sequence[CompiledPattern]) -> bool:
    """No filter passes everything; otherwise a record passes if any pattern matches."""
    return not patterns or any(p.matches(view) for p in patterns)
