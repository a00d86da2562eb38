"""Trust-policy decisions for cross-account AssumeRole and Lambda's service principal."""

from __future__ import annotations

import json
from typing import Any

from lambent.iam.trust import allows_principal, allows_service, caller_identities

A = "111111111111"
B = "222222222222"


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _stmt(principal: Any, effect: str = "Allow", action: Any = "sts:AssumeRole") -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action}


def test_principal_forms() -> None:
    user = f"arn:aws:iam::{B}:user/bob"
    assert allows_principal(_trust(_stmt({"AWS": f"arn:aws:iam::{B}:root"})), B, user)
    assert allows_principal(_trust(_stmt({"AWS": B})), B, user)
    assert allows_principal(_trust(_stmt({"AWS": [A, user]})), B, user)
    assert allows_principal(_trust(_stmt("*")), B, user)
    assert allows_principal(_trust(_stmt({"AWS": "*"})), B, user)
    assert not allows_principal(_trust(_stmt({"AWS": A})), B, user)
    assert not allows_principal(_trust(_stmt({"Service": "lambda.amazonaws.com"})), B, user)
    assert not allows_principal("some policy", B, user)


def test_actions_and_deny() -> None:
    user = f"arn:aws:iam::{B}:user/bob"
    assert allows_principal(_trust(_stmt({"AWS": B}, action=["sts:*"])), B, user)
    assert not allows_principal(_trust(_stmt({"AWS": B}, action="sts:TagSession")), B, user)
    both = _trust(_stmt({"AWS": B}), _stmt({"AWS": user}, effect="Deny"))
    assert not allows_principal(both, B, user)


def test_role_session_callers_match_their_role() -> None:
    session = f"arn:aws:sts::{B}:assumed-role/deployer/ci"
    assert f"arn:aws:iam::{B}:role/deployer" in caller_identities(B, session)
    assert allows_principal(_trust(_stmt({"AWS": f"arn:aws:iam::{B}:role/deployer"})), B, session)


def test_lambda_service_principal() -> None:
    assert allows_service(_trust(_stmt({"Service": "lambda.amazonaws.com"})))
    assert allows_service(
        _trust(_stmt({"Service": ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]}))
    )
    assert not allows_service(_trust(_stmt({"Service": "ec2.amazonaws.com"})))
    assert not allows_service(_trust(_stmt({"AWS": A})))
    assert allows_service("some policy")  # stored only in open mode, deliberately
