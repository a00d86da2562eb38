"""Resource-policy evaluation for function URLs, over statements AddPermission writes."""

from __future__ import annotations

from typing import Any

from lambent.function_urls import access
from lambent.functions import policy

RESOURCE = "arn:aws:lambda:us-east-1:123456789012:function:f"
OTHER = access.Principal("444455556666", "arn:aws:iam::444455556666:role/caller")
SAME = access.Principal("123456789012", "arn:aws:iam::123456789012:user/me")


def doc(*params: dict[str, Any]) -> dict[str, Any]:
    stmts = [
        policy.statement({"StatementId": f"s{i}", **p}, RESOURCE) for i, p in enumerate(params)
    ]
    return {"Version": "2012-10-17", "Id": "default", "Statement": stmts}


PUBLIC = {"Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"}


def test_public_url_permission_allows_anonymous_callers() -> None:
    assert access.allows(doc(PUBLIC), None, "NONE")


def test_no_policy_or_empty_policy_allows_nobody() -> None:
    assert not access.allows(None, None, "NONE")
    assert not access.allows({"Statement": []}, None, "NONE")


def test_invoke_function_alone_does_not_open_the_url() -> None:
    stmt = {"Action": "lambda:InvokeFunction", "Principal": "*"}
    assert not access.allows(doc(stmt), None, "NONE")


def test_wildcard_actions_cover_the_url_action() -> None:
    assert access.allows(doc({**PUBLIC, "Action": "lambda:*"}), None, "NONE")
    raw = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "lambda:Invoke*"}]}
    assert access.allows(raw, None, "NONE")


def test_auth_type_condition_must_match_the_url() -> None:
    iam_only = {**PUBLIC, "FunctionUrlAuthType": "AWS_IAM"}
    assert not access.allows(doc(iam_only), None, "NONE")
    assert access.allows(doc(iam_only), OTHER, "AWS_IAM")


def test_unconditioned_public_statement_also_matches() -> None:
    bare = {"Action": "lambda:InvokeFunctionUrl", "Principal": "*"}
    assert access.allows(doc(bare), None, "NONE")


def test_condition_on_a_key_urls_do_not_have_fails() -> None:
    sourced = {**PUBLIC, "SourceAccount": "123456789012"}
    assert not access.allows(doc(sourced), None, "NONE")


def test_invoked_via_function_url_condition_holds_for_url_requests() -> None:
    via = {"Action": "lambda:InvokeFunctionUrl", "Principal": "*", "InvokedViaFunctionUrl": True}
    assert access.allows(doc(via), None, "NONE")


def test_account_principal_allows_only_that_account() -> None:
    acct = {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "444455556666",
        "FunctionUrlAuthType": "AWS_IAM",
    }
    assert access.allows(doc(acct), OTHER, "AWS_IAM")
    assert not access.allows(doc(acct), SAME, "AWS_IAM")
    assert not access.allows(doc(acct), None, "AWS_IAM")


def test_role_arn_principal_matches_exactly() -> None:
    role = {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": OTHER.arn,
        "FunctionUrlAuthType": "AWS_IAM",
    }
    assert access.allows(doc(role), OTHER, "AWS_IAM")
    other_role = access.Principal(OTHER.account_id, "arn:aws:iam::444455556666:role/else")
    assert not access.allows(doc(role), other_role, "AWS_IAM")


def test_service_principals_never_match_url_callers() -> None:
    svc = {"Action": "lambda:InvokeFunctionUrl", "Principal": "s3.amazonaws.com"}
    assert not access.allows(doc(svc), OTHER, "AWS_IAM")


def test_explicit_deny_wins() -> None:
    allow = doc(PUBLIC)
    allow["Statement"].append(
        {"Sid": "no", "Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunctionUrl"}
    )
    assert not access.allows(allow, None, "NONE")


def test_if_exists_operator_skips_absent_keys() -> None:
    cond = {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}
    assert access.conditions_hold(cond, access.request_context("NONE"))
    assert not access.conditions_hold({"StringEquals": {"aws:SourceAccount": "1"}}, {})
    assert not access.conditions_hold({"NumericLessThan": {"lambda:FunctionUrlAuthType": "1"}}, {})
