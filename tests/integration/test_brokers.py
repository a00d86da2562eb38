"""`lambent brokers add|list` on a server's data dir or database, and RabbitMQ mappings'
checks against the registered broker and the BASIC_AUTH secret (SQLite and, with
LAMBENT_TEST_DATABASE=postgres, PostgreSQL)."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.integration.test_secretsmanager import _database_text, _raw_files
from tests.support import REPO, ServerProcess, lambda_role

PASSWORD = "BrokerPassword-93b1f0c7"
BROKER_ARN = re.compile(
    r"arn:aws:mq:us-east-1:\d{12}:broker:rabbit:b-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{12}"
)


def brokers(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "lambent", "brokers", *args),
            *("--data-dir", str(server.data_dir), *server.store_args()),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=str(REPO),
        timeout=120,
    )


@pytest.fixture(scope="module")
def broker(server: ServerProcess) -> str:
    done = brokers(server, "add", "rabbit", f"amqp://guest:{PASSWORD}@127.0.0.1:5672/")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_add_and_list_keep_the_password_out_of_sight(server: ServerProcess, broker: str) -> None:
    assert BROKER_ARN.fullmatch(broker)
    listed = brokers(server, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t") == [
        "rabbit",
        broker,
        "amqp://guest:***@127.0.0.1:5672/\n",
    ]
    again = brokers(server, "add", "rabbit", "amqp://127.0.0.1/")
    assert again.returncode == 1 and "already registered" in again.stderr
    bad = brokers(server, "add", "other", "http://127.0.0.1/")
    assert bad.returncode == 1 and "amqp://" in bad.stderr
    found = [p.name for p in _raw_files(server.data_dir) if PASSWORD.encode() in p.read_bytes()]
    assert found == []
    if server.database_url is not None:
        text = _database_text(server.database_url)
        assert broker in text and PASSWORD not in text


def _function(server: ServerProcess) -> str:
    lam: Any = server.client("lambda")
    lam.create_function(
        FunctionName="mq-consumer",
        Runtime="python3.12",
        Role=lambda_role(server, "mq-consumer"),
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(event, context):\n    return None\n")},
    )
    return "mq-consumer"


def test_a_rabbitmq_mapping_names_the_broker_a_queue_and_a_secret(
    server: ServerProcess, broker: str
) -> None:
    sm: Any = server.client("secretsmanager")
    secret = sm.create_secret(Name="mq-auth", SecretString='{"username":"guest"}')["ARN"]
    lam: Any = server.client("lambda")
    function = _function(server)
    auth = [{"Type": "BASIC_AUTH", "URI": secret}]
    made = lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=broker,
        Queues=["orders"],
        SourceAccessConfigurations=[*auth, {"Type": "VIRTUAL_HOST", "URI": "/"}],
        Enabled=False,
    )
    assert made["Queues"] == ["orders"] and made["BatchSize"] == 100
    assert made["SourceAccessConfigurations"][0] == auth[0]
    assert "StartingPosition" not in made

    def refused(**kwargs: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as err:
            lam.create_event_source_mapping(FunctionName=function, **kwargs)
        error = err.value.response["Error"]
        return error["Code"], error["Message"]

    ipve = "InvalidParameterValueException"
    assert refused(EventSourceArn=broker, SourceAccessConfigurations=auth)[0] == ipve
    two = refused(EventSourceArn=broker, Queues=["a", "b"], SourceAccessConfigurations=auth)
    assert two[0] == "ValidationException"
    assert refused(EventSourceArn=broker, Queues=["q"])[0] == ipve
    missing = [{"Type": "BASIC_AUTH", "URI": secret[:-7] + "x"}]
    code, message = refused(EventSourceArn=broker, Queues=["q"], SourceAccessConfigurations=missing)
    assert code == ipve and "secret" in message
    other = broker[:-36] + "00000000-0000-0000-0000-000000000000"
    code, message = refused(EventSourceArn=other, Queues=["q"], SourceAccessConfigurations=auth)
    assert code == ipve and "broker" in message
    sasl = [*auth, {"Type": "SASL_SCRAM_512_AUTH", "URI": secret}]
    assert refused(EventSourceArn=broker, Queues=["q"], SourceAccessConfigurations=sasl)[0] == ipve
