"""Queue URLs, ARNs and names as AWS spells them.

A queue URL is `ENDPOINT/ACCOUNT/NAME` (AWS: `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`);
only its last two path segments identify the queue, so a URL with another host (an SDK
that built it from a region) still names the same queue, as AWS's legacy endpoints do."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lambent.sqs.errors import InvalidAddress, InvalidParameterValue, QueueDoesNotExist

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
_ARN = re.compile(r"arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})")
_ACCOUNT = re.compile(r"\d{12}")


def check_name(name: str, fifo: bool) -> None:
    if fifo:
        if not _FIFO_NAME.fullmatch(name):
            raise InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                "or underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _NAME.fullmatch(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def queue_url(endpoint: str, account: str, name: str) -> str:
    return f"{endpoint.rstrip('/')}/{account}/{name}"


def parse_url(url: str) -> tuple[str, str]:
    """(account, name) a queue URL names. A bare name is not a URL (InvalidAddress)."""
    path = urlsplit(url).path if "://" in url else ""
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or not _ACCOUNT.fullmatch(parts[0]):
        if "://" not in url:
            raise InvalidAddress(f"The address {url} is not valid for this endpoint.")
        raise QueueDoesNotExist()
    return parts[0], parts[1]


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a queue ARN, or None if it is not one."""
    match = _ARN.fullmatch(arn)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"
