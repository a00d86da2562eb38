"""Reading AWS answers on the client: error shapes per protocol, query strings, payloads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lambent.auth import sigv4
from lambent.cli.client import HttpAnswer, json_error, query_string, xml_error
from lambent.cli.errors import UsageError
from lambent.cli.invoke import read_payload
from lambent.cli.listing import short_time, table


def test_lambda_error_shape() -> None:
    err = json_error(
        HttpAnswer(
            404,
            {"x-amzn-errortype": "ResourceNotFoundException"},
            b'{"Type":"User","Message":"Function not found: arn:x"}',
        )
    )
    assert (err.code, err.aws_message, err.status) == (
        "ResourceNotFoundException",
        "Function not found: arn:x",
        404,
    )
    assert err.message == "ResourceNotFoundException: Function not found: arn:x"


def test_error_type_header_with_a_suffix_and_logs_style_type() -> None:
    suffixed = HttpAnswer(403, {"x-amzn-errortype": "AccessDeniedException:http://x/"}, b"{}")
    assert json_error(suffixed).code == "AccessDeniedException"
    logs = HttpAnswer(
        400, {}, b'{"__type":"com.amazonaws.logs#InvalidParameterException","message":"bad"}'
    )
    assert (json_error(logs).code, json_error(logs).aws_message) == (
        "InvalidParameterException",
        "bad",
    )


def test_a_non_aws_error_answer_is_still_readable() -> None:
    err = json_error(HttpAnswer(502, {}, b"<html>Bad Gateway</html>"))
    assert err.message == "HTTP 502: <html>Bad Gateway</html>"
    assert json_error(HttpAnswer(500, {}, b"")).message == "HTTP 500: (empty answer)"


def test_iam_xml_error() -> None:
    body = (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error>'
        b"<Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role cannot be found."
        b"</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
    err = xml_error(HttpAnswer(404, {}, body))
    assert (err.code, err.aws_message) == ("NoSuchEntity", "The role cannot be found.")
    assert xml_error(HttpAnswer(500, {}, b"not xml")).code == "HTTP 500"


def test_query_string_is_what_the_verifier_canonicalizes() -> None:
    qs = query_string({"Marker": "a b/c:d", "MaxItems": 2, "Qualifier": None})
    assert qs == "Marker=a%20b%2Fc%3Ad&MaxItems=2"
    assert sigv4.canonical_query(qs) == qs


def test_read_payload(tmp_path: Path) -> None:
    (tmp_path / "e.json").write_bytes(b'{"f": 1}')
    assert read_payload(None, io.BytesIO()) == b"{}"
    assert read_payload('{"a": 1}', io.BytesIO()) == b'{"a": 1}'
    assert read_payload("-", io.BytesIO(b"[1]")) == b"[1]"
    assert read_payload(f"@{tmp_path / 'e.json'}", io.BytesIO()) == b'{"f": 1}'
    assert read_payload("-", io.BytesIO(b"")) == b""
    with pytest.raises(UsageError, match="stdin is not valid JSON"):
        read_payload("-", io.BytesIO(b"{"))
    with pytest.raises(UsageError, match="cannot read payload file"):
        read_payload(f"@{tmp_path / 'missing'}", io.BytesIO())


def test_table_and_times() -> None:
    assert short_time("2024-05-01T12:00:00.000+0000") == "2024-05-01 12:00:00"
    assert short_time("-") == "-"
    lines = table([("a-long-name", "python3.11", "128 MB", "3 s", "x")])
    assert lines[0] == "NAME         RUNTIME     MEMORY  TIMEOUT  LAST MODIFIED"
    assert lines[1] == "a-long-name  python3.11  128 MB  3 s      x"
