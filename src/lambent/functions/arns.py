"""Lambda ARNs: building them as AWS shows them and reading the names clients pass.

A function can be named four ways (`my-fn`, `my-fn:prod`, `123456789012:function:my-fn`,
`arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod`); every operation accepts them
all, so the parsing lives here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambent.errors import InvalidParameterValue, ResourceNotFound

# AWS's own pattern for a function's name (the ARN prefix, region, account and `function:`
# each optional; botocore's NamespacedFunctionName), with its parts named. Reading a name
# with the same pattern AWS validates it with keeps the two agreeing: for example
# `arn:aws:lambda:<r>:<a>:function` names a function called `function`, as on AWS.
_FUNCTION = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?"
)
_LAYER = re.compile(
    r"^arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9_-]+)(?::(?P<version>[0-9]+))?$"
)


def partition(region: str) -> str:
    """The ARN partition a region lives in (aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:{partition(region)}:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def layer_arn(region: str, account: str, name: str) -> str:
    return f"arn:{partition(region)}:lambda:{region}:{account}:layer:{name}"


def layer_version_arn(region: str, account: str, name: str, version: int) -> str:
    return f"{layer_arn(region, account, name)}:{version}"


@dataclass(frozen=True)
class FunctionRef:
    """What a client named: the function, and where the name said so, its account and region."""

    name: str
    qualifier: str | None = None
    account: str | None = None
    region: str | None = None


def read_function(text: str) -> FunctionRef:
    """Any accepted form, with the qualifier the name carries (if any)."""
    match = _FUNCTION.fullmatch(text)
    if match is None:
        raise InvalidParameterValue(f"Function name {text} is not valid.")
    return FunctionRef(
        name=match.group("name"),
        qualifier=match.group("qualifier"),
        account=match.group("account"),
        region=match.group("region"),
    )


def check_region(ref: FunctionRef, region: str) -> None:
    """AWS answers an ARN of another region before it looks for the function."""
    if ref.region is not None and ref.region != region:
        raise ResourceNotFound(
            f"Functions from '{ref.region}' are not reachable in this region ('{region}')"
        )


def qualified(ref: FunctionRef, qualifier: str | None) -> FunctionRef:
    """`ref` with the Qualifier parameter applied: it must agree with the name's own."""
    if ref.qualifier and qualifier and ref.qualifier != qualifier:
        raise InvalidParameterValue(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    if ref.qualifier or not qualifier:
        return ref
    return FunctionRef(ref.name, qualifier, ref.account, ref.region)


def parse_function(
    text: str, qualifier: str | None = None, *, region: str | None = None
) -> FunctionRef:
    """Read any accepted form, in AWS's order of checks: the name's form, its region (when
    the caller's is given), then a Qualifier parameter that must agree with the name's."""
    ref = read_function(text)
    if region is not None:
        check_region(ref, region)
    return qualified(ref, qualifier)


@dataclass(frozen=True)
class LayerRef:
    name: str
    account: str | None = None
    region: str | None = None
    version: int | None = None


def parse_layer(text: str) -> LayerRef:
    """A layer name, a layer ARN or a layer version ARN."""
    match = _LAYER.match(text)
    if match is not None:
        version = match.group("version")
        return LayerRef(
            name=match.group("name"),
            account=match.group("account"),
            region=match.group("region"),
            version=int(version) if version else None,
        )
    return LayerRef(name=text)


def role_parts(role_arn: str) -> tuple[str, str]:
    """(account, role name) of an IAM role ARN; the path is not part of the name."""
    head, _, resource = role_arn.partition(":role/")
    account = head.rsplit(":", 1)[-1]
    return account, resource.rsplit("/", 1)[-1]
