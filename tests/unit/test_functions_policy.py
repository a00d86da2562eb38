from __future__ import annotations

from lambent.functions import policy

RESOURCE = "arn:aws:lambda:us-east-1:123456789012:function:f"


def test_service_principal_and_source_arn() -> None:
    stmt = policy.statement(
        {
            "StatementId": "s3",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceArn": "arn:aws:s3:::bucket",
            "SourceAccount": "123456789012",
        },
        RESOURCE,
    )
    assert stmt == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": RESOURCE,
        "Condition": {
            "StringEquals": {"AWS:SourceAccount": "123456789012"},
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"},
        },
    }


def test_account_principal_becomes_root_arn() -> None:
    assert policy.principal("432143214321") == {"AWS": "arn:aws:iam::432143214321:root"}
    assert policy.principal("432143214321", "aws-cn") == {
        "AWS": "arn:aws-cn:iam::432143214321:root"
    }
    assert policy.principal("*") == "*"
    role = "arn:aws:iam::123456789012:role/r"
    assert policy.principal(role) == {"AWS": role}


def test_org_token_and_url_conditions_share_string_equals() -> None:
    stmt = policy.statement(
        {
            "StatementId": "x",
            "Action": "lambda:InvokeFunctionUrl",
            "Principal": "*",
            "PrincipalOrgID": "o-a1b2c3d4e5",
            "EventSourceToken": "tok",
            "FunctionUrlAuthType": "NONE",
        },
        RESOURCE,
    )
    assert stmt["Condition"] == {
        "StringEquals": {
            "aws:PrincipalOrgID": "o-a1b2c3d4e5",
            "lambda:EventSourceToken": "tok",
            "lambda:FunctionUrlAuthType": "NONE",
        }
    }


def test_no_condition_when_unconstrained() -> None:
    stmt = policy.statement(
        {"StatementId": "x", "Action": "lambda:*", "Principal": "123456789012"}, RESOURCE
    )
    assert "Condition" not in stmt
