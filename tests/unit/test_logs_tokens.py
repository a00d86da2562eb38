"""Logs pagination tokens and retention arithmetic: pure logic."""

from __future__ import annotations

import pytest

from lambent.errors import ClientError
from lambent.logs import naming, retention, tokens


def test_event_ids_sort_like_keys() -> None:
    keys = [(1, 5), (1, 40), (2, 1), (1_700_000_000_000, 3), (1_700_000_000_000, 12)]
    ids = [tokens.event_id(k) for k in keys]
    assert all(len(i) == 56 and i.isdigit() for i in ids)
    assert ids == sorted(ids)
    assert [tokens.parse_event_id(i) for i in ids] == keys


def test_stream_tokens_round_trip() -> None:
    token = tokens.stream_token("f", (1_700_000_000_123, 42))
    assert token.startswith("f/")
    assert tokens.parse_stream_token(token) == ("f", (1_700_000_000_123, 42))
    assert tokens.parse_stream_token(tokens.stream_token("b", tokens.START)) == ("b", (0, 0))


@pytest.mark.parametrize("bad", ["", "f/", "x/" + "0" * 56, "f/123", "b/" + "a" * 56])
def test_bad_stream_tokens(bad: str) -> None:
    with pytest.raises(ClientError) as err:
        tokens.parse_stream_token(bad)
    assert err.value.code == "InvalidParameterException"
    assert err.value.message == "The specified nextToken is invalid."


def test_opaque_tokens() -> None:
    assert tokens.parse_opaque(tokens.opaque(["a/b", 3])) == ["a/b", 3]
    assert tokens.parse_opaque_key(tokens.opaque([5, 6])) == (5, 6)
    for bad in ("!!!", tokens.opaque("x"), tokens.opaque([1]), tokens.opaque([True, 1])):
        with pytest.raises(ClientError):
            tokens.parse_opaque_key(bad)


def test_retention_math() -> None:
    assert retention.check_days(30) == 30
    with pytest.raises(ClientError) as err:
        retention.check_days(31)
    assert "Member must satisfy enum value set: [1, 3, 5" in err.value.message
    assert retention.effective_days(None, 30) == 30
    assert retention.effective_days(7, 30) == 7
    now = 10 * retention.DAY_MS
    assert retention.cutoff_ms(now, 3) == 7 * retention.DAY_MS
    assert retention.excess(105, 100) == 5
    assert retention.excess(99, 100) == 0
    assert 3653 in retention.ALLOWED_DAYS and len(retention.ALLOWED_DAYS) == 22


def test_lambda_names() -> None:
    assert naming.lambda_group("fn") == "/aws/lambda/fn"
    stream = naming.lambda_stream(1_700_000_000.0, "$LATEST", "0123456789abcdef0123456789abcdef")
    assert stream == "2023/11/14/[$LATEST]0123456789abcdef0123456789abcdef"
    assert naming.stream_arn("us-east-1", "1", "/g", "s") == (
        "arn:aws:logs:us-east-1:1:log-group:/g:log-stream:s"
    )
