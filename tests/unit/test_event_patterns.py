"""The event-pattern engine: AWS's documented examples, Event Ruler's refusals, SNS's limits
and ESM's views (property tests against a reference matcher: test_event_patterns_props.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from lambent.event_patterns import PatternError, compile_pattern, esm_matches, esm_view
from lambent.event_patterns.sns import attributes_view

DOCS = json.loads(
    (Path(__file__).parents[1] / "fixtures/event_patterns/eventbridge_docs.json").read_text()
)


@pytest.mark.parametrize("case", DOCS["cases"], ids=[c["name"] for c in DOCS["cases"]])
def test_the_documented_examples(case: dict[str, Any]) -> None:
    pattern = compile_pattern(json.dumps(case["pattern"]))
    for event in case["match"]:
        assert pattern.matches(event), event
    for event in case["no_match"]:
        assert not pattern.matches(event), event


REFUSED = [
    ("[]", "Filter is not an object"),
    ('{"a": "x"}', '"a" must be an object or an array'),
    ('{"a": []}', "Empty arrays are not allowed"),
    ('{"a": {}}', "Empty objects are not allowed"),
    ('{"a": [{"prefixx": "x"}]}', "Unrecognized match type prefixx"),
    ('{"a": [{"prefix": 1}]}', "prefix match pattern must be a string"),
    ('{"a": [{"prefix": "a", "suffix": "b"}]}', "Only one key allowed in match expression"),
    ('{"a": [{"numeric": 5}]}', "Value of numeric must be an array."),
    ('{"a": [{"numeric": [">", "x"]}]}', "Value of > must be numeric"),
    ('{"a": [{"numeric": ["~", 1]}]}', "Unrecognized numeric range operator: ~"),
    ('{"a": [{"numeric": [">", 1, ">", 2]}]}', "Bad numeric range operator: >"),
    ('{"a": [{"numeric": ["<", 1, "<", 2]}]}', "Too many elements in numeric expression"),
    ('{"a": [{"exists": "yes"}]}', "exists match pattern must be either true or false."),
    ('{"a": [{"anything-but": ["a", 1]}]}', "mixed type is not supported"),
    ('{"a": [{"anything-but": {"contains": "a"}}]}', "Unsupported anything-but pattern: contains"),
    ('{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed"),
    ('{"a": [{"anything-but": true}]}', "must be an array or single string/number value."),
    ('{"a": [{"wildcard": "a**b"}]}', "Consecutive wildcard characters at pos 2"),
    ('{"a": [{"cidr": "10.0.0.0/99"}]}', "Malformed CIDR"),
    ('{"$or": {"a": [1]}}', "It must be an Array followed with $or."),
    ('{"$or": [{"a": [1]}]}', "There must have at least 2 Objects in $or relationship."),
    ('{"$or": [{"a": [1]}, 2]}', "Only JSON object is allowed in array of $or relationship."),
    ("{not json", "line 1"),
]


@pytest.mark.parametrize(("pattern", "reason"), REFUSED)
def test_invalid_patterns_are_refused_with_event_rulers_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert reason in caught.value.reason


def test_dialects_refuse_what_their_service_does_not_support() -> None:
    compile_pattern('{"a": [{"wildcard": "x*"}]}')
    with pytest.raises(PatternError, match="Unrecognized match type wildcard"):
        compile_pattern('{"a": [{"wildcard": "x*"}]}', dialect="sns")
    with pytest.raises(PatternError, match="Unrecognized match type cidr"):
        compile_pattern('{"body": {"ip": [{"cidr": "10.0.0.0/8"}]}}', dialect="esm")


def test_an_or_that_multiplies_out_too_far_is_refused() -> None:
    alternatives = [{f"k{i}": [i]} for i in range(40)]
    pattern = {"$or": alternatives, "x": {"$or": alternatives}}
    with pytest.raises(PatternError, match="too complex"):
        compile_pattern(pattern)


class TestSnsPolicies:
    def test_attribute_scope_is_flat(self) -> None:
        with pytest.raises(PatternError, match="does not support nested"):
            compile_pattern('{"a": {"b": ["x"]}}', dialect="sns")
        compile_pattern('{"a": {"b": ["x"]}}', dialect="sns-body")

    def test_at_most_five_keys(self) -> None:
        five = {f"k{i}": ["v"] for i in range(5)}
        compile_pattern(five, dialect="sns")
        with pytest.raises(PatternError, match="more than 5 keys"):
            compile_pattern({**five, "k5": ["v"]}, dialect="sns")

    def test_at_most_150_combinations(self) -> None:
        compile_pattern({"a": list(range(10)), "b": list(range(15))}, dialect="sns")
        with pytest.raises(PatternError, match="too complex"):
            compile_pattern({"a": list(range(10)), "b": list(range(16))}, dialect="sns")

    def test_attributes_are_matched_as_sns_types_them(self) -> None:
        view = attributes_view(
            {
                "store": {"DataType": "String", "StringValue": "example_corp"},
                "price": {"DataType": "Number", "StringValue": "210.75"},
                "tags": {"DataType": "String.Array", "StringValue": '["a", "b"]'},
                "blob": {"DataType": "Binary", "BinaryValue": b"x"},
            }
        )
        assert view == {"store": "example_corp", "price": 210.75, "tags": ["a", "b"]}
        policy = compile_pattern(
            {"store": ["example_corp"], "price": [{"numeric": [">=", 100]}], "tags": ["b"]},
            dialect="sns",
        )
        assert policy.matches(view)
        assert not policy.matches({**view, "price": 99})


class TestEsmFilters:
    def test_a_json_body_is_filtered_on_its_properties(self) -> None:
        record = {"messageId": "1", "body": json.dumps({"RequestCode": "BBBB", "n": 3})}
        pattern = compile_pattern('{"body": {"RequestCode": ["BBBB"]}}', dialect="esm")
        assert esm_matches(esm_view(record, "body"), [pattern])
        other = {"messageId": "2", "body": json.dumps({"RequestCode": "AAAA"})}
        assert not esm_matches(esm_view(other, "body"), [pattern])

    def test_a_plain_body_matches_string_patterns_only(self) -> None:
        record = {"body": "hello"}
        as_string = compile_pattern('{"body": ["hello"]}', dialect="esm")
        on_property = compile_pattern('{"body": {"greeting": ["hello"]}}', dialect="esm")
        assert esm_matches(esm_view(record, "body"), [as_string])
        assert not esm_matches(esm_view(record, "body"), [on_property])

    def test_base64_data_is_decoded_first(self) -> None:
        data = base64.b64encode(json.dumps({"temp": 31}).encode()).decode()
        pattern = compile_pattern('{"data": {"temp": [{"numeric": [">", 30]}]}}', dialect="esm")
        assert esm_matches(esm_view({"data": data}, "data", base64_data=True), [pattern])

    def test_filters_are_ored_and_none_passes_everything(self) -> None:
        view = esm_view({"body": '{"a": 2}'}, "body")
        one = compile_pattern('{"body": {"a": [1]}}', dialect="esm")
        two = compile_pattern('{"body": {"a": [2]}}', dialect="esm")
        assert esm_matches(view, [one, two])
        assert not esm_matches(view, [one])
        assert esm_matches(view, [])
