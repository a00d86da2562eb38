"""AWS's checks on an Amazon MQ (RabbitMQ) mapping that need the broker and the secret.

A RabbitMQ mapping names a registered broker (brokers/registry.py) by its ARN, exactly one
queue in `Queues` (the model's min/max 1 checks the count), and in
SourceAccessConfigurations exactly one BASIC_AUTH entry whose URI is a Secrets Manager
secret of the mapping's account (optionally one VIRTUAL_HOST). Only those two types apply
to RabbitMQ. Wording is Lambent's (no published AWS text was found for these cases); all
are InvalidParameterValueException, as AWS's mapping checks are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from lambent.errors import InvalidParameterValue

BrokerExists = Callable[[str], Awaitable[bool]]
SecretExists = Callable[[str, str], Awaitable[bool]]  # (account, secret ARN)

NO_BROKER = "The provided broker does not exist: {arn}"
NO_QUEUES = "Queues must be specified for an Amazon MQ event source."
NO_AUTH = (
    "SourceAccessConfigurations must contain exactly one BASIC_AUTH entry for an Amazon MQ "
    "event source."
)
BAD_TYPE = "Unsupported SourceAccessConfiguration type for an Amazon MQ event source: {type}"
NO_SECRET = "The provided BASIC_AUTH secret does not exist: {uri}"
ALLOWED = ("BASIC_AUTH", "VIRTUAL_HOST")


def check_shape(params: dict[str, Any]) -> str:
    """The BASIC_AUTH secret's ARN, after the checks that need nothing stored."""
    if not params.get("Queues"):
        raise InvalidParameterValue(NO_QUEUES)
    return check_access(params.get("SourceAccessConfigurations"))


def check_access(configs: list[dict[str, Any]] | None) -> str:
    configs = configs or []
    for config in configs:
        if config.get("Type") not in ALLOWED:
            raise InvalidParameterValue(BAD_TYPE.format(type=config.get("Type")))
    auth = [c for c in configs if c.get("Type") == "BASIC_AUTH"]
    hosts = [c for c in configs if c.get("Type") == "VIRTUAL_HOST"]
    if len(auth) != 1 or len(hosts) > 1 or not auth[0].get("URI"):
        raise InvalidParameterValue(NO_AUTH)
    return str(auth[0]["URI"])


async def check_stored(
    account: str,
    broker_arn: str,
    secret_arn: str,
    broker_exists: BrokerExists,
    secret_exists: SecretExists,
) -> None:
    if not await broker_exists(broker_arn):
        raise InvalidParameterValue(NO_BROKER.format(arn=broker_arn))
    if not await secret_exists(account, secret_arn):
        raise InvalidParameterValue(NO_SECRET.format(uri=secret_arn))
