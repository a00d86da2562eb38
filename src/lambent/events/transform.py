"""What a target receives: the event, `Input`, `InputPath` or `InputTransformer`. Pure.

InputTransformer follows AWS's rules (EventBridge user guide, "Input transformation"):
each `InputPathsMap` variable is a JSON path into the event; `<var>` in the
`InputTemplate` is replaced by its value. In a JSON template a placeholder outside quotes
becomes the value as JSON (a string keeps its quotes), inside quotes the value's text is
inserted, escaped for the string it sits in; a template that is not JSON (a plain text)
gets the values' text. A path that matches nothing gives null (an empty text inside
quotes). Reserved variables: `aws.events.rule-arn`, `aws.events.rule-name`,
`aws.events.event.ingestion-time`, `aws.events.event` and `aws.events.event.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lambent.events.errors import EventsValidation

_MISSING = object()
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
RESERVED = "aws.events."


def parse_path(path: str) -> list[str | int]:
    """`$`, `$.a.b`, `$.a[0]`, `$['a b']`; EventBridge's ValidationException otherwise."""
    if not path.startswith("$"):
        raise EventsValidation(f"Invalid InputPath for target: {path}")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        found = _STEP.match(path, pos)
        if found is None:
            raise EventsValidation(f"Invalid InputPath for target: {path}")
        name, index, quoted, dquoted = found.groups()
        steps.append(int(index) if index is not None else (name or quoted or dquoted or ""))
        pos = found.end()
    return steps


def select(event: Any, path: str) -> Any:
    """The value at `path`, or _MISSING."""
    value = event
    for step in parse_path(path):
        value = _step(value, step)
        if value is _MISSING:
            break
    return value


def _step(value: Any, step: str | int) -> Any:
    if isinstance(step, int):
        return value[step] if isinstance(value, list) and step < len(value) else _MISSING
    return value[step] if isinstance(value, dict) and step in value else _MISSING


def check_target_input(target: Mapping[str, Any]) -> None:
    """PutTargets' checks: at most one of the three, valid paths and JSON."""
    given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k) is not None]
    if len(given) > 1:
        raise EventsValidation(
            "Only one of Input, InputPath, or InputTransformer must be provided."
        )
    if target.get("Input") is not None:
        try:
            json.loads(target["Input"])
        except ValueError as exc:
            raise EventsValidation("Input is not a valid JSON text.") from exc
    if target.get("InputPath") is not None:
        parse_path(target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer is not None:
        paths = transformer.get("InputPathsMap") or {}
        if len(paths) > 100:
            raise EventsValidation("InputPathsMap can have at most 100 entries.")
        for key, path in paths.items():
            if key.startswith(RESERVED):
                raise EventsValidation(f"InputPathsMap key {key} is reserved.")
            parse_path(path)


def target_input(
    target: Mapping[str, Any], event: Mapping[str, Any], rule_arn: str, rule_name: str
) -> str:
    """The text the target is sent for this event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath") is not None:
        value = select(event, target["InputPath"])
        return "null" if value is _MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return json.dumps(event)
    values: dict[str, Any] = {
        k: select(event, p) for k, p in (transformer.get("InputPathsMap") or {}).items()
    }
    values["aws.events.rule-arn"] = rule_arn
    values["aws.events.rule-name"] = rule_name
    values["aws.events.event.ingestion-time"] = event.get("time", "")
    values["aws.events.event"] = event
    values["aws.events.event.json"] = event
    return render(str(transformer["InputTemplate"]), values)


def render(template: str, values: Mapping[str, Any]) -> str:
    as_json = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    pos = 0
    for found in _PLACEHOLDER.finditer(template):
        name = found.group(1)
        if name not in values:
            continue
        out.append(template[pos : found.start()])
        value = values[name]
        if not as_json:
            out.append(_text(value))
        elif _in_quotes(template, found.start()):
            out.append(json.dumps(_text(value))[1:-1])
        else:
            out.append("null" if value is _MISSING else json.dumps(value))
        pos = found.end()
    out.append(template[pos:])
    return "".join(out)


def _text(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _in_quotes(template: str, end: int) -> bool:
    """Is position `end` inside a JSON string (an odd number of unescaped quotes before)?"""
    inside = False
    escaped = False
    for char in template[:end]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside
