from __future__ import annotations

import pytest

from lambent.errors import InvalidParameterValue, ValidationError
from lambent.functions.aliases import check_routing


def test_one_extra_version_is_fine() -> None:
    check_routing({"2": 0.25}, "1")
    check_routing({}, "$LATEST")


def test_at_most_one_extra_version() -> None:
    with pytest.raises(InvalidParameterValue, match="cannot be greater than 1"):
        check_routing({"2": 0.1, "3": 0.1}, "1")


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_weight_range(weight: float) -> None:
    with pytest.raises(ValidationError, match=r"routingConfig\.additionalVersionWeights"):
        check_routing({"2": weight}, "1")


def test_not_latest_and_named_by_no_fault() -> None:
    """AWS answers it without a Type, as its request checks do."""
    with pytest.raises(InvalidParameterValue, match=r"\$LATEST is not supported") as err:
        check_routing({"2": 0.5}, "$LATEST")
    assert err.value.front_door


def test_not_the_primary_version() -> None:
    with pytest.raises(InvalidParameterValue, match="already included in routing"):
        check_routing({"1": 0.5}, "1")
