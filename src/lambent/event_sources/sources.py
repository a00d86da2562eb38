"""What kind of event source a mapping reads, and the rules and defaults AWS applies per kind.

Pure: no store, no I/O. The kind decides which settings a mapping has (a queue has no
StartingPosition; a stream must have one) and what AWS fills in when the caller is silent.
"""

from __future__ import annotations

import enum
from typing import Any

from lambent.errors import InvalidParameterValue


class SourceKind(enum.Enum):
    SQS = "sqs"
    KINESIS = "kinesis"
    DYNAMODB = "dynamodb"  # a DynamoDB stream
    KAFKA = "kafka"  # Amazon MSK, or a self-managed cluster (SelfManagedEventSource)
    MQ = "mq"
    DOCUMENTDB = "docdb"

    @property
    def stream(self) -> bool:
        """Sources read from a position: AWS requires StartingPosition for them."""
        return self in (SourceKind.KINESIS, SourceKind.DYNAMODB, SourceKind.KAFKA)


_BY_SERVICE = {
    "sqs": SourceKind.SQS,
    "kinesis": SourceKind.KINESIS,
    "kafka": SourceKind.KAFKA,
    "mq": SourceKind.MQ,
    "rds": SourceKind.DOCUMENTDB,
}

UNRECOGNIZED = "Unrecognized event source."
UNSUPPORTED_DESTINATION = (
    "Unsupported DestinationConfig parameter for given event source mapping type."
)
NO_STARTING_POSITION = (
    "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
    "constraint: Member must not be null."
)


def kind_of(params: dict[str, Any]) -> SourceKind:
    """The kind an EventSourceArn (or a self-managed source) names; AWS's IPVE if none."""
    arn = params.get("EventSourceArn")
    if not arn:
        managed = params.get("SelfManagedEventSource") or {}
        if (managed.get("Endpoints") or {}).get("KAFKA_BOOTSTRAP_SERVERS"):
            return SourceKind.KAFKA
        raise InvalidParameterValue(UNRECOGNIZED)
    parts = str(arn).split(":", 5)
    service = parts[2] if len(parts) == 6 else ""
    if service == "dynamodb" and "/stream/" in parts[5]:
        return SourceKind.DYNAMODB
    found = _BY_SERVICE.get(service)
    if found is None:
        raise InvalidParameterValue(UNRECOGNIZED)
    return found


def check_destinations(kind: SourceKind, config: dict[str, Any] | None) -> None:
    """No mapping sends successes anywhere, and a queue's failures go to its own dead-letter
    queue, not to a destination: AWS refuses either."""
    config = config or {}
    on_success = (config.get("OnSuccess") or {}).get("Destination")
    on_failure = (config.get("OnFailure") or {}).get("Destination")
    if on_success or (kind is SourceKind.SQS and on_failure):
        raise InvalidParameterValue(UNSUPPORTED_DESTINATION)


def check_create(kind: SourceKind, params: dict[str, Any]) -> None:
    check_destinations(kind, params.get("DestinationConfig"))
    if kind.stream and not params.get("StartingPosition"):
        raise InvalidParameterValue(NO_STARTING_POSITION)


def defaults(kind: SourceKind) -> dict[str, Any]:
    """What AWS shows for settings the caller left out, by kind."""
    if kind is SourceKind.SQS:
        return {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": []}
    out: dict[str, Any] = {"BatchSize": 100, "MaximumBatchingWindowInSeconds": 0}
    if kind in (SourceKind.KINESIS, SourceKind.DYNAMODB):
        out.update(
            {
                "ParallelizationFactor": 1,
                "DestinationConfig": {"OnFailure": {}},
                "MaximumRecordAgeInSeconds": -1,
                "BisectBatchOnFunctionError": False,
                "MaximumRetryAttempts": -1,
                "TumblingWindowInSeconds": 0,
                "FunctionResponseTypes": [],
            }
        )
    if kind.stream:
        out["LastProcessingResult"] = "No records processed"
    return out


# Settings a caller may give at create time and change later (UpdateEventSourceMapping's).
UPDATABLE = (
    "BatchSize",
    "FilterCriteria",
    "MaximumBatchingWindowInSeconds",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "ParallelizationFactor",
    "SourceAccessConfigurations",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "ScalingConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
    "KMSKeyArn",
    "MetricsConfig",
    "LoggingConfig",
    "ProvisionedPollerConfig",
)
# Settings fixed at create time.
CREATE_ONLY = (
    "EventSourceArn",
    "StartingPosition",
    "StartingPositionTimestamp",
    "Topics",
    "Queues",
    "SelfManagedEventSource",
)
