from __future__ import annotations

import pytest

from lambent.errors import InvalidParameterValue, ResourceNotFound
from lambent.functions import arns


def test_plain_name() -> None:
    assert arns.parse_function("my-fn") == arns.FunctionRef("my-fn")


def test_name_with_qualifier() -> None:
    assert arns.parse_function("my-fn:prod") == arns.FunctionRef("my-fn", "prod")


def test_partial_arn() -> None:
    ref = arns.parse_function("123456789012:function:my-fn:7")
    assert ref == arns.FunctionRef("my-fn", "7", "123456789012", None)


def test_full_arn() -> None:
    ref = arns.parse_function("arn:aws:lambda:eu-west-1:123456789012:function:my-fn:$LATEST")
    assert ref == arns.FunctionRef("my-fn", "$LATEST", "123456789012", "eu-west-1")


def test_qualifier_parameter_applies_when_name_has_none() -> None:
    assert arns.parse_function("my-fn", "3").qualifier == "3"


def test_matching_qualifiers_are_fine() -> None:
    assert arns.parse_function("my-fn:3", "3").qualifier == "3"


def test_conflicting_qualifiers_are_rejected() -> None:
    with pytest.raises(InvalidParameterValue, match="derived qualifier"):
        arns.parse_function("my-fn:3", "4")


def test_garbage_is_rejected() -> None:
    with pytest.raises(InvalidParameterValue):
        arns.parse_function("not a name!")


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-isob-east-1", "aws-iso-b"),
        ("us-iso-east-1", "aws-iso"),
    ],
)
def test_partition(region: str, partition: str) -> None:
    assert arns.function_arn(region, "123456789012", "f").startswith(f"arn:{partition}:lambda:")


def test_function_arn_qualified_and_not() -> None:
    base = "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert arns.function_arn("us-east-1", "123456789012", "f") == base
    assert arns.function_arn("us-east-1", "123456789012", "f", "2") == base + ":2"


def test_layer_arns() -> None:
    arn = arns.layer_version_arn("us-east-1", "123456789012", "deps", 3)
    assert arn == "arn:aws:lambda:us-east-1:123456789012:layer:deps:3"
    ref = arns.parse_layer(arn)
    assert (ref.name, ref.account, ref.region, ref.version) == (
        "deps",
        "123456789012",
        "us-east-1",
        3,
    )
    assert arns.parse_layer("deps") == arns.LayerRef("deps")
    assert arns.parse_layer(arn.rsplit(":", 1)[0]).version is None


def test_role_parts_drop_the_path() -> None:
    assert arns.role_parts("arn:aws:iam::123456789012:role/my-path/my-role") == (
        "123456789012",
        "my-role",
    )


def test_an_arn_ending_in_function_names_a_function_called_function() -> None:
    """`function:` is optional in AWS's pattern, so the last part is the name."""
    ref = arns.parse_function("arn:aws:lambda:us-east-1:123456789012:function")
    assert ref == arns.FunctionRef("function", None, "123456789012", "us-east-1")


def test_an_eusc_region_is_read_as_a_region() -> None:
    ref = arns.parse_function("arn:aws:lambda:eusc-de-east-1:123456789012:function:f:2")
    assert (ref.region, ref.name, ref.qualifier) == ("eusc-de-east-1", "f", "2")


def test_another_region_is_not_reachable_before_the_qualifiers_are_compared() -> None:
    name = "arn:aws:lambda:eu-west-1:123456789012:function:f:1"
    with pytest.raises(ResourceNotFound) as err:
        arns.parse_function(name, "2", region="us-east-1")
    assert err.value.message == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )
    assert arns.parse_function(name, "1", region="eu-west-1").qualifier == "1"


def test_the_derived_qualifier_message_is_awss() -> None:
    with pytest.raises(InvalidParameterValue) as err:
        arns.parse_function("f:1", "2")
    assert err.value.message == (
        "The derived qualifier from the function name does not match the specified qualifier."
    )
