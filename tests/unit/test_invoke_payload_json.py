"""Which Invoke payloads Lambda refuses as not JSON, and the detail it words (pure).

The expected details are AWS's answers as users recorded them (Jackson's messages with
their location), or Jackson's wording of the same condition where no answer was recorded.
"""

from __future__ import annotations

import json

import pytest

from lambent.invoke.payload_json import VALUES, char_desc, problem


def at(payload: str, column: int, line: int = 1) -> str:
    return f'\n at [Source: (byte[])"{payload}"; line: {line}, column: {column}]'


@pytest.mark.parametrize(
    "payload",
    [
        b"{}",
        b'{"name": "world", "n": [1, 2.5e-3, -0, true, false, null]}',
        b'"just a string"',
        b"42",
        b"[]",
        '{"é": "ünïcode ✓ 😀"}'.encode(),
        b'{"a": "\\u00e9\\n"}',
        b'\xef\xbb\xbf{"bom": 1}',
        json.dumps({"big": "x" * 100_000}).encode(),
    ],
)
def test_json_payloads_pass(payload: bytes) -> None:
    assert problem(payload) is None


def test_what_jackson_reads_past_passes() -> None:
    """Jackson reads the first value only, and no content is no value (no error)."""
    assert problem(b'{"a": 1} trailing') is None
    assert problem(b"   ") is None


def test_an_unrecognized_token() -> None:
    assert problem(b"abc") == (f"Unrecognized token 'abc': was expecting {VALUES}" + at("abc", 4))
    assert VALUES == "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
    assert problem(b"truex")
    assert problem(b"hello world") == (
        f"Unrecognized token 'hello': was expecting {VALUES}" + at("hello world", 7)
    )


def test_bytes_that_are_not_utf8_text_as_aws_recorded() -> None:
    """AWS CLI v2 users sending raw JSON where base64 is expected: the decoded bytes."""
    assert problem(b"\x9b\xad\xa5") == (
        "Unexpected character ((CTRL-CHAR, code 155)): expected a valid value "
        f"{VALUES}" + at("\ufffd\ufffd\ufffd", 2)
    )
    assert problem(b"1\x84\xf8D") == (
        "Unexpected character ((CTRL-CHAR, code 132)): Expected space separating "
        "root-level values" + at("1\ufffd\ufffdD", 3)
    )
    assert problem(b"\xb2x").startswith("Unexpected character ('\xb2' (code 178))")  # type: ignore[union-attr]
    assert problem(b'{"a":"\x97"}') == ("Invalid UTF-8 start byte 0x97" + at('{"a":"\ufffd"}', 8))
    assert problem(b'"\xc3x"') == "Invalid UTF-8 middle byte 0x78" + at('"\ufffdx"', 4)


def test_a_multipart_body_sent_as_a_payload() -> None:
    body = b"------WebKitFormBoundary\r\nContent-Disposition: form-data"
    assert problem(body) == (
        "Unexpected character ('-' (code 45)) in numeric value: expected digit (0-9) to "
        "follow minus sign, for valid numeric value" + at(body.decode(), 3)
    )


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (
            '{"a":1',
            "Unexpected end-of-input: expected close marker for Object (start marker at "
            '[Source: (byte[])"{"a":1"; line: 1, column: 1])',
        ),
        (
            "{a:1}",
            "Unexpected character ('a' (code 97)): was expecting double-quote to start field name",
        ),
        (
            '{"a" 1}',
            "Unexpected character ('1' (code 49)): was expecting a colon to separate field "
            "name and value",
        ),
        (
            '{"a":1 "b":2}',
            "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries",
        ),
        (
            "[1 2]",
            "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries",
        ),
        ("[1,]", "Unexpected character (']' (code 93)): expected a value"),
        ('"abc', "Unexpected end-of-input: was expecting closing quote for a string value"),
        ("01", "Invalid numeric value: Leading zeroes not allowed"),
        (
            "1.x",
            "Unexpected character ('x' (code 120)) in numeric value: Decimal point not "
            "followed by a digit",
        ),
        (
            "NaN",
            "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
        ),
        ('"a\\qb"', "Unrecognized character escape 'q' (code 113)"),
        (
            '"a\nb"',
            "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using "
            "backslash to be included in string value",
        ),
    ],
)
def test_jacksons_wording_of_each_syntax_error(payload: str, detail: str) -> None:
    found = problem(payload.encode())
    assert found is not None
    assert found.split("\n at ")[0] == detail


def test_the_location_counts_lines_and_shows_at_most_500_bytes() -> None:
    # Jackson reports a bad token past the character that ended it (here `}`).
    found = problem(b'{\n  "a": x}')
    assert found is not None and found.endswith("; line: 2, column: 10]")
    long = b'["' + b"y" * 600
    found = problem(long)
    assert found is not None
    assert f'(byte[])"{"[" + chr(34) + "y" * 498}"[truncated 102 bytes]; line: 1' in found


def test_character_descriptions() -> None:
    assert char_desc(0x41) == "'A' (code 65)"
    assert char_desc(0x0A) == "(CTRL-CHAR, code 10)"
    assert char_desc(0x2713) == "'\u2713' (code 10003 / 0x2713)"
