"""Topic and subscription names and ARNs (pure)."""

from __future__ import annotations

import re
import uuid

from lambent.sns.errors import invalid

_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
_FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo")


def check_topic_name(name: str) -> None:
    if not (_NAME.fullmatch(name) or _FIFO_NAME.fullmatch(name)):
        raise invalid("Topic Name")


def topic_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{account}:{name}"


def parse_topic_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a topic ARN, or None when `arn` is not one."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"] or not parts[4]:
        return None
    return parts[3], parts[4], parts[5]


def subscription_arn(topic: str) -> str:
    return f"{topic}:{uuid.uuid4()}"


def topic_of_subscription(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) != 7 or parts[:3] != ["arn", "aws", "sns"]:
        return None
    return ":".join(parts[:6])
