"""Another account reaches a queue only as the queue's Policy allows."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_accounts import new_account
from tests.support import ServerProcess


def test_cross_account_access_follows_the_queue_policy(server: ServerProcess) -> None:
    owner = server.client("sqs")
    url = owner.create_queue(QueueName="shared-q")["QueueUrl"]
    arn = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    account, keys = new_account(server)
    other = server.client("sqs", keys=keys)
    with pytest.raises(ClientError) as err:
        other.send_message(QueueUrl=url, MessageBody="not yet")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ],
    }
    owner.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    other.send_message(QueueUrl=url, MessageBody="allowed")
    with pytest.raises(ClientError) as err:
        other.receive_message(QueueUrl=url)
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    got = owner.receive_message(QueueUrl=url, WaitTimeSeconds=20)["Messages"]
    assert got[0]["Body"] == "allowed"
    assert got[0].get("Attributes") is None
    found = other.get_queue_url(QueueName="shared-q", QueueOwnerAWSAccountId=url.split("/")[-2])
    assert found["QueueUrl"] == url


def test_add_and_remove_permission(server: ServerProcess) -> None:
    owner = server.client("sqs")
    url = owner.create_queue(QueueName="perm-q")["QueueUrl"]
    account, keys = new_account(server)
    other = server.client("sqs", keys=keys)
    owner.add_permission(
        QueueUrl=url, Label="let-b", AWSAccountIds=[account], Actions=["SendMessage"]
    )
    other.send_message(QueueUrl=url, MessageBody="via AddPermission")
    with pytest.raises(ClientError) as err:
        owner.add_permission(
            QueueUrl=url, Label="let-b", AWSAccountIds=[account], Actions=["SendMessage"]
        )
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
    policy = json.loads(
        owner.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert [s["Sid"] for s in policy["Statement"]] == ["let-b"]
    owner.remove_permission(QueueUrl=url, Label="let-b")
    shown = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    assert shown.get("Attributes", {}) == {}
    with pytest.raises(ClientError) as err:
        other.send_message(QueueUrl=url, MessageBody="no longer")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as err:
        owner.remove_permission(QueueUrl=url, Label="let-b")
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"
