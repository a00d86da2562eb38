"""The execution role `lambent deploy` uses when none is given.

CreateFunction needs a role that exists in IAM, and a first-time user has none. Rather than
make them learn IAM first, deploy gets (or creates once) a role that Lambda may assume, as
the AWS console does with its "basic execution role".
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from lambent.cli.client import AwsClient, child_text
from lambent.cli.errors import ApiError

DEFAULT_ROLE = "lambent-default-execution-role"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def ensure_default_role(client: AwsClient) -> str:
    """The default role's ARN, creating the role if this account has none yet."""
    arn = _get_role_arn(client, DEFAULT_ROLE)
    if arn is not None:
        return arn
    params = {
        "RoleName": DEFAULT_ROLE,
        "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
        "Description": "Execution role for functions deployed with `lambent deploy`",
    }
    try:
        result = client.iam("CreateRole", params)
    except ApiError as err:
        if err.code != "EntityAlreadyExists":  # another deploy created it just now
            raise
        arn = _get_role_arn(client, DEFAULT_ROLE)
        if arn is None:
            raise
        return arn
    return _arn_of(result)


def _get_role_arn(client: AwsClient, name: str) -> str | None:
    try:
        result = client.iam("GetRole", {"RoleName": name})
    except ApiError as err:
        if err.code == "NoSuchEntity":
            return None
        raise
    return _arn_of(result)


def _arn_of(result: ET.Element) -> str:
    arn = child_text(result, "Arn")
    if not arn:
        raise ApiError("InvalidResponse", "IAM answered without a role ARN", 0)
    return arn
