"""The seed's pipeline end to end on a real server: an S3 upload notifies a transform
function, which sends one SQS message per line; an SQS event source mapping runs the load
function, which writes rows into the machine's PostgreSQL with psycopg shipped in its zip
(pure psycopg and typing_extensions over the host's libpq). The process sandbox, so the
function reaches PostgreSQL on 127.0.0.1. The test asserts the rows."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import typing_extensions

from tests.integration.test_s3_notifications import allow_s3
from tests.pg import fresh_schema
from tests.support import ServerProcess, lambda_role, start_server

pytestmark = pytest.mark.services
BOUND_S = 60.0  # against hangs only

TRANSFORM = """
import os, boto3, urllib.parse
def handler(event, context):
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=os.environ["QUEUE"])["QueueUrl"]
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        for line in body.splitlines():
            sqs.send_message(QueueUrl=url, MessageBody=line.upper())
"""

LOAD = """
import os, psycopg
def handler(event, context):
    with psycopg.connect(os.environ["DB"], autocommit=True) as conn:
        for record in event["Records"]:
            conn.execute("INSERT INTO rows (body) VALUES (%s)", (record["body"],))
"""


def _zip_with_psycopg(source: str) -> bytes:
    out = io.BytesIO()
    package = Path(psycopg.__file__).parent
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("app.py", source)
        for path in package.rglob("*.py"):
            zf.write(path, f"psycopg/{path.relative_to(package)}")
        zf.write(typing_extensions.__file__, "typing_extensions.py")  # psycopg's one dependency
    return out.getvalue()


@pytest.fixture(scope="module")
def db() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("pipeline"), extra_args=["--sandbox", "process"])
    yield server
    server.stop()


def test_upload_transform_queue_load_rows(srv: ServerProcess, db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE rows (body text)")
    lam, s3, sqs = srv.client("lambda"), srv.client("s3"), srv.client("sqs")
    url = sqs.create_queue(QueueName="pipeline")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for name, code, env in (
        ("transform", _zip_with_psycopg(TRANSFORM), {"QUEUE": "pipeline"}),
        ("load", _zip_with_psycopg(LOAD), {"DB": db}),
    ):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=lambda_role(srv, name),
            Handler="app.handler",
            Code={"ZipFile": code},
            Environment={"Variables": env},
            Timeout=30,
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.create_event_source_mapping(FunctionName="load", EventSourceArn=queue_arn, BatchSize=10)
    s3.create_bucket(Bucket="uploads")
    allow_s3(srv, "transform", "uploads")
    arn = lam.get_function(FunctionName="transform")["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket="uploads", Key="in/data.csv", Body=b"alpha\nbeta\ngamma\n")
    deadline = time.monotonic() + BOUND_S
    rows: list[str] = []
    while time.monotonic() < deadline:
        with psycopg.connect(db) as conn:
            rows = sorted(r[0] for r in conn.execute("SELECT body FROM rows").fetchall())
        if len(rows) >= 3:
            break
        time.sleep(0.1)
    assert rows == ["ALPHA", "BETA", "GAMMA"], _logs(srv)


def _logs(srv: ServerProcess) -> str:
    logs, out = srv.client("logs"), []
    for name in ("transform", "load"):
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except Exception as exc:  # a diagnostic only
            events = [{"message": repr(exc)}]
        out += [f"{name}: {e['message']}" for e in events]
    return json.dumps(out[-40:], indent=1)
