"""S3 PUT -> handler start: how long from a client's PutObject to the notified function's
handler starting, warm, one PUT at a time (the next after the previous handler reported).

The handler reports `time.time()` at its start on an SQS queue the bench long-polls, so the
wait is an event, not a poll of the logs; both sides read the same host clock. The path
measured: the PUT's store transaction with its outbox row, the dispatcher's claim, the
async queue's enqueue and schedule, and a warm invoke.

    .venv/bin/python -m bench.s3_notify_latency [--count 100] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.fixtures.functions import python_zip
from tests.support import lambda_role, start_server

from bench.loadgen import percentile

HANDLER = """
import json, os, time, boto3
SQS = boto3.client("sqs")
URL = None
def handler(event, context):
    started = time.time()
    global URL
    URL = URL or SQS.get_queue_url(QueueName="bench-started")["QueueUrl"]
    key = event["Records"][0]["s3"]["object"]["key"]
    SQS.send_message(QueueUrl=URL, MessageBody=json.dumps({"key": key, "at": started}))
"""


def run(count: int, database: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LAMBENT_DATABASE_URL": database} if database else None
        server = start_server(Path(tmp), extra_args=["--sandbox", "process"], env=env)
        try:
            return _measure(server, count)
        finally:
            server.stop()


def _measure(server: object, count: int) -> dict[str, float]:
    lam, s3, sqs = (server.client(n) for n in ("lambda", "s3", "sqs"))  # type: ignore[attr-defined]
    url = sqs.create_queue(QueueName="bench-started")["QueueUrl"]
    arn = lam.create_function(
        FunctionName="bench-s3",
        Runtime="python3.12",
        Role=lambda_role(server, "bench-s3"),  # type: ignore[arg-type]
        Handler="app.handler",
        Code={"ZipFile": python_zip(HANDLER)},
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName="bench-s3")
    lam.add_permission(
        FunctionName="bench-s3",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bench-notify",
    )
    s3.create_bucket(Bucket="bench-notify")
    config = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(
        Bucket="bench-notify",
        NotificationConfiguration={"LambdaFunctionConfigurations": [config]},
    )
    samples: list[float] = []
    for i in range(count + 5):  # the first 5 warm the function up
        sent = time.time()
        s3.put_object(Bucket="bench-notify", Key=f"k{i}", Body=b"x")
        while True:
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
            if got:
                break
        sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        if i >= 5:
            samples.append((json.loads(got[0]["Body"])["at"] - sent) * 1000)
    samples.sort()
    return {
        "count": float(len(samples)),
        "p50_ms": percentile(samples, 50),
        "p99_ms": percentile(samples, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--postgres", action="store_true", help="on a fresh PostgreSQL schema")
    args = parser.parse_args()
    if args.postgres:
        from tests.pg import fresh_schema

        with fresh_schema() as url:
            print(json.dumps(run(args.count, url), indent=1))
    else:
        print(json.dumps(run(args.count, None), indent=1))


if __name__ == "__main__":
    main()
