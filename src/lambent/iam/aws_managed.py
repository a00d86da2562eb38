"""AWS managed policies (arn:aws:iam::aws:policy/...) that Lambda tooling attaches.

The catalog is read-only data: every account sees the same policies, as in AWS. Documents
are AWS's published statements for the Lambda execution-role policies; Lambent does not
evaluate them. Ids are derived from the name so they are stable across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from lambent.iam.names import AWS_ACCOUNT, POLICY_ID_PREFIX, iam_arn

CREATED = 1428537600.0  # 2015-04-09, when the Lambda execution-role policies appeared

_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


def _allow(actions: list[str] | str, resource: str | list[str] = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


@dataclass(frozen=True)
class AwsPolicy:
    path: str
    name: str
    description: str
    statements: tuple[dict[str, Any], ...]

    @property
    def arn(self) -> str:
        return iam_arn(AWS_ACCOUNT, "policy", self.path, self.name)

    @property
    def policy_id(self) -> str:
        digest = base64.b32encode(hashlib.sha256(self.name.encode()).digest()).decode()
        return POLICY_ID_PREFIX + digest[:17]

    def document(self) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(self.statements)}, indent=4)


_SR = "/service-role/"
CATALOG: tuple[AwsPolicy, ...] = (
    AwsPolicy(
        _SR,
        "AWSLambdaBasicExecutionRole",
        "Provides write permissions to CloudWatch Logs.",
        (_allow(_LOGS),),
    ),
    AwsPolicy(
        _SR,
        "AWSLambdaVPCAccessExecutionRole",
        "Provides minimum permissions for a Lambda function to execute while accessing a "
        "resource within a VPC",
        (
            _allow(
                [
                    *_LOGS,
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ]
            ),
        ),
    ),
    AwsPolicy(
        _SR,
        "AWSLambdaSQSQueueExecutionRole",
        "Provides receive message, delete message, and read attribute access to SQS queues, "
        "and write permissions to CloudWatch logs.",
        (
            _allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]),
            _allow(_LOGS),
        ),
    ),
    AwsPolicy(
        _SR,
        "AWSLambdaKinesisExecutionRole",
        "Provides list and read access to Kinesis streams and write permissions to "
        "CloudWatch logs.",
        (
            _allow(
                [
                    "kinesis:DescribeStream",
                    "kinesis:DescribeStreamSummary",
                    "kinesis:GetRecords",
                    "kinesis:GetShardIterator",
                    "kinesis:ListShards",
                    "kinesis:ListStreams",
                    "kinesis:SubscribeToShard",
                    *_LOGS,
                ]
            ),
        ),
    ),
    AwsPolicy(
        _SR,
        "AWSLambdaDynamoDBExecutionRole",
        "Provides list and read access to DynamoDB streams and write permissions to "
        "CloudWatch logs.",
        (
            _allow(
                [
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator",
                    "dynamodb:ListStreams",
                    *_LOGS,
                ]
            ),
        ),
    ),
    AwsPolicy(
        _SR,
        "AWSLambdaRole",
        "Default policy for AWS Lambda service role.",
        (_allow(["lambda:InvokeFunction"]),),
    ),
    AwsPolicy(
        "/",
        "AWSLambdaExecute",
        "Provides Put, Get access to S3 and full access to CloudWatch Logs.",
        (
            _allow(["logs:*"], "arn:aws:logs:*:*:*"),
            _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::*"),
        ),
    ),
    AwsPolicy(
        "/",
        "AWSXRayDaemonWriteAccess",
        "Allow the AWS X-Ray Daemon to relay raw trace segments data to the service's API "
        "and retrieve sampling data (rules, targets, etc.) to be used by the X-Ray SDK.",
        (
            _allow(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ]
            ),
        ),
    ),
    AwsPolicy(
        "/",
        "AdministratorAccess",
        "Provides full access to AWS services and resources.",
        (_allow("*"),),
    ),
    AwsPolicy(
        "/",
        "CloudWatchLogsFullAccess",
        "Provides full access to CloudWatch Logs",
        (_allow(["logs:*"]),),
    ),
    AwsPolicy(
        "/",
        "AmazonS3FullAccess",
        "Provides full access to all buckets via the AWS Management Console.",
        (_allow(["s3:*", "s3-object-lambda:*"]),),
    ),
    AwsPolicy(
        "/",
        "AmazonSQSFullAccess",
        "Provides full access to Amazon SQS via the AWS Management Console.",
        (_allow(["sqs:*"]),),
    ),
)


def by_arn(arn: str) -> AwsPolicy | None:
    for policy in CATALOG:
        if policy.arn == arn:
            return policy
    return None
