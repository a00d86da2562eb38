"""An invocation crosses the internal wire and comes back as it left: the request's
fields, the result's payload bytes, function error, log tail and executed version, and a
worker's domain errors raised again as the same errors on the frontend."""

from __future__ import annotations

import pytest

from lambent.cluster import wire
from lambent.environments.invocation import InvocationRequest, InvocationResult
from lambent.environments.pool import PoolRetired
from lambent.errors import InvalidRuntime, ServiceError, TooManyRequests


def test_a_request_round_trips() -> None:
    target = wire.Target("123456789012", "fn", "$LATEST", "123456789012/fn/$LATEST/abc")
    req = InvocationRequest(
        request_id="r1",
        payload=b'{"a": "\xc3\xa9"}',
        invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        client_context='{"custom": {"k": "v\u00e9"}}',
        trace_id="Root=1-0-0",
        want_tail=True,
    )
    headers = dict(wire.request_headers(target, req))
    assert wire.parse_request(headers, req.payload) == (target, req)
    plain = InvocationRequest(request_id="r2", payload=b"{}", invoked_arn="arn")
    assert wire.parse_request(dict(wire.request_headers(target, plain)), b"{}")[1] == plain


def test_a_result_round_trips() -> None:
    result = InvocationResult(
        payload=b'{"errorType":"X"}',
        executed_version="3",
        function_error="Unhandled",
        error_type="X",
        log_tail="dGFpbA==",
        duration_ms=1.5,
        cold=True,
    )
    assert wire.parse_result(dict(wire.result_headers(result)), result.payload) == result
    ok = InvocationResult(payload=b"1", executed_version="$LATEST", duration_ms=0.25)
    assert wire.parse_result(dict(wire.result_headers(ok)), b"1") == ok


def test_domain_errors_are_raised_again_as_themselves() -> None:
    throttle = TooManyRequests("Rate exceeded", reason="CallerRateLimitExceeded", retry_after_s=1)
    with pytest.raises(TooManyRequests) as caught:
        wire.raise_error(wire.error_body(throttle))
    assert (caught.value.reason, caught.value.retry_after_s) == ("CallerRateLimitExceeded", 1)
    with pytest.raises(InvalidRuntime, match="no node"):
        wire.raise_error(wire.error_body(InvalidRuntime("no node")))
    with pytest.raises(PoolRetired):
        wire.raise_error(wire.error_body(PoolRetired()))
    with pytest.raises(ServiceError) as failed:
        wire.raise_error(wire.error_body(RuntimeError("secret detail")))
    assert failed.value.code == "ServiceException" and "secret" not in failed.value.message
    with pytest.raises(ServiceError):
        wire.raise_error(b"not json")
