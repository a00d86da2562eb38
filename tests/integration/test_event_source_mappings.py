"""Event source mappings through real boto3, as AWS answers them before any poller exists
(AWS-BEHAVIOURS §10): unknown UUIDs, unrecognized sources, missing functions, destinations
a source cannot have, streams without a StartingPosition; and what a stored mapping shows
through its lifecycle (Creating -> Enabled, Updating/Disabling -> Disabled, Deleting)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.fixtures.functions import python_zip
from tests.support import ServerProcess, create_account, lambda_role

QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs"  # the server's account's, once created
FIFO = "arn:aws:sqs:us-east-1:123456789012:orders.fifo"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
UNKNOWN_UUID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def lam(server: ServerProcess) -> Any:
    return server.client("lambda")


@pytest.fixture(scope="module", autouse=True)
def jobs_queue(server: ServerProcess) -> None:
    """A mapping's queue must exist: QUEUE and FIFO become the server account's queues."""
    global QUEUE, FIFO
    sqs = server.client("sqs")
    for name, attrs in (("jobs", {}), ("orders.fifo", {"FifoQueue": "true"})):
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        if name == "jobs":
            QUEUE = arn["Attributes"]["QueueArn"]
        else:
            FIFO = arn["Attributes"]["QueueArn"]


@pytest.fixture(scope="module")
def fn(server: ServerProcess, lam: Any) -> str:
    lam.create_function(
        FunctionName="esm-target",
        Runtime="python3.12",
        Role=lambda_role(server, "esm"),
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(e, c):\n    return e\n")},
    )
    return "esm-target"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    resp = exc.value.response
    return (
        resp["Error"]["Code"],
        resp["Error"]["Message"],
        resp["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.mark.parametrize("call", ["get", "delete", "update"])
def test_an_unknown_uuid_is_not_found(lam: Any, call: str) -> None:
    with pytest.raises(ClientError) as exc:
        if call == "get":
            lam.get_event_source_mapping(UUID=UNKNOWN_UUID)
        elif call == "delete":
            lam.delete_event_source_mapping(UUID=UNKNOWN_UUID)
        else:
            lam.update_event_source_mapping(UUID=UNKNOWN_UUID, BatchSize=5)
    assert error(exc) == (
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
    )


@pytest.mark.parametrize(
    "source",
    [{}, {"EventSourceArn": "arn:aws:s3:us-east-1:123456789012:bucket"}],
    ids=["no-source", "not-a-source"],
)
def test_a_mapping_needs_a_source_lambda_can_read(lam: Any, fn: str, source: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=fn, **source)
    assert error(exc) == ("InvalidParameterValueException", "Unrecognized event source.", 400)


def test_a_mapping_needs_an_existing_function(lam: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName="esm-nobody", EventSourceArn=QUEUE)
    assert error(exc) == ("InvalidParameterValueException", "Function does not exist", 400)


def test_a_queue_mapping_has_no_on_success_destination(lam: Any, fn: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(
            FunctionName=fn,
            EventSourceArn=QUEUE,
            DestinationConfig={"OnSuccess": {"Destination": QUEUE + "-done"}},
        )
    assert error(exc) == (
        "InvalidParameterValueException",
        "Unsupported DestinationConfig parameter for given event source mapping type.",
        400,
    )


@pytest.mark.parametrize("source", [STREAM, TABLE_STREAM], ids=["kinesis", "dynamodb"])
def test_a_stream_mapping_needs_a_starting_position(lam: Any, fn: str, source: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=source)
    assert error(exc) == (
        "InvalidParameterValueException",
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
        "constraint: Member must not be null.",
        400,
    )


def test_a_queue_mapping_is_created_enabled_updated_listed_and_deleted(lam: Any, fn: str) -> None:
    created = lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=QUEUE)
    uuid = created["UUID"]
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 10
    function_arn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
    assert created["FunctionArn"] == function_arn
    assert created["EventSourceMappingArn"].endswith(f":event-source-mapping:{uuid}")

    got = lam.get_event_source_mapping(UUID=uuid)
    assert got["State"] == "Enabled"
    assert got["EventSourceArn"] == QUEUE

    updated = lam.update_event_source_mapping(UUID=uuid, BatchSize=5, Enabled=False)
    assert (updated["State"], updated["BatchSize"]) == ("Disabling", 5)
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"

    listed = lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert lam.list_event_source_mappings(EventSourceArn=STREAM)["EventSourceMappings"] == []

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as exc:
        lam.get_event_source_mapping(UUID=uuid)
    assert error(exc)[0] == "ResourceNotFoundException"


def test_a_stream_mapping_shows_stream_defaults(lam: Any, fn: str) -> None:
    created = lam.create_event_source_mapping(
        FunctionName=fn, EventSourceArn=STREAM, StartingPosition="LATEST", Enabled=False
    )
    got = lam.get_event_source_mapping(UUID=created["UUID"])
    assert got["State"] == "Disabled"
    assert got["StartingPosition"] == "LATEST"
    assert (got["BatchSize"], got["ParallelizationFactor"], got["MaximumRetryAttempts"]) == (
        100,
        1,
        -1,
    )
    lam.delete_event_source_mapping(UUID=created["UUID"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"EventSourceArn": "FIFO", "BatchSize": 20},
            "BatchSize must be between 1 and 10 for FIFO queues",
        ),
        (
            {"EventSourceArn": "FIFO", "MaximumBatchingWindowInSeconds": 5},
            "Batching window is not supported for FIFO queues",
        ),
        (
            {"EventSourceArn": "QUEUE", "BatchSize": 20},
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
            "greater than 10",
        ),
        (
            {"EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:nowhere"},
            "Error occurred while ReceiveMessage. SQS Error Code: "
            "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue "
            "does not exist for this wsdl version.",
        ),
        (
            {
                "EventSourceArn": "QUEUE",
                "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"a": [{"prefix": 1}]}}'}]},
            },
            "Invalid filter pattern definition.",
        ),
    ],
)
def test_sqs_settings_aws_refuses(
    server: ServerProcess, lam: Any, fn: str, settings: dict[str, Any], message: str
) -> None:
    arn = {"QUEUE": QUEUE, "FIFO": FIFO}.get(settings["EventSourceArn"])
    settings = {**settings, "EventSourceArn": arn or settings["EventSourceArn"]}
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=fn, **settings)
    assert error(exc) == ("InvalidParameterValueException", message, 400)


def test_another_accounts_queue_without_a_policy_is_refused(
    server: ServerProcess, lam: Any, fn: str
) -> None:
    _, cred = create_account(server.data_dir)
    other = server.client("sqs", keys=(cred.access_key, cred.secret))
    url = other.create_queue(QueueName="theirs")["QueueUrl"]
    arn = other.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(FunctionName=fn, EventSourceArn=arn)
    assert error(exc) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call ReceiveMessage on SQS",
        400,
    )
