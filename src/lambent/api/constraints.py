"""AWS's live constraints where the botocore model Lambent loads lags behind the service.

AWS added the European Sovereign Cloud's regions (`(eusc-)?`) to Lambda's ARN patterns and
layers to the taggable resources, and a ValidationException quotes the live pattern text.
A client compares those texts, so the live ones replace the bundled ones before any shape
is compiled (observed on AWS; docs/SPECIFICATION.md, "Names, ARNs and qualifiers").
"""

from __future__ import annotations

import copy
from typing import Any

_REGION = r"[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}"
_EUSC_REGION = r"(eusc-)?" + _REGION

# Quoted verbatim from AWS's answers (AWS-BEHAVIOURS §1).
FUNCTION_NAME = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
NAMESPACED_FUNCTION_NAME = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
DESTINATION_ARN = (
    r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
    r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
TAGGABLE_RESOURCE = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
LAYER_VERSION_ARN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
    r"\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)

_LAMBDA: dict[str, dict[str, Any]] = {
    "FunctionName": {"pattern": FUNCTION_NAME},
    "NamespacedFunctionName": {"pattern": NAMESPACED_FUNCTION_NAME},
    "DestinationArn": {"pattern": DESTINATION_ARN},
    "TaggableResource": {"pattern": TAGGABLE_RESOURCE},
    "LayerVersionArn": {"pattern": LAYER_VERSION_ARN, "max": 2048},
    # AWS lists these values in this order in its messages (AWS-BEHAVIOURS §5); the model
    # has them the other way round.
    "RecursiveLoop": {"enum": ["Terminate", "Allow"]},
    "InvokeMode": {"enum": ["RESPONSE_STREAM", "BUFFERED"]},
}

# Other shapes that name a function: AWS accepts eusc- regions wherever a function is named,
# so their region part gets the same `(eusc-)?`.
_EUSC_ONLY = ("UnqualifiedFunctionName", "FunctionArn", "NameSpacedFunctionArn")

OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {"lambda": _LAMBDA}


def with_eusc(pattern: str) -> str:
    """`pattern` with AWS's `(eusc-)?` before its region part (it is there at most once)."""
    if _EUSC_REGION in pattern:
        return pattern
    return pattern.replace(_REGION, _EUSC_REGION, 1)


def live(service: str, model: dict[str, Any]) -> dict[str, Any]:
    """A copy of a service model (botocore's JSON) with AWS's live constraints."""
    overrides = OVERRIDES.get(service)
    if not overrides:
        return model
    out = copy.deepcopy(model)
    shapes: dict[str, dict[str, Any]] = out["shapes"]
    for name, changes in overrides.items():
        if name in shapes:
            shapes[name].update(changes)
    if service == "lambda":
        for name in _EUSC_ONLY:
            shape = shapes.get(name)
            if shape is not None and "pattern" in shape:
                shape["pattern"] = with_eusc(shape["pattern"])
    return out
