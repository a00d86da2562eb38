"""Bucket notification configurations: stored per bucket, checked as S3 checks them at
put time (pure parts here; destinations are checked by the caller's `Validate`).

S3 refuses two configurations that share an event type and whose key filters overlap
("Configurations overlap. Configurations on the same bucket cannot share a common event
type.") and a prefix or suffix rule named twice; event names must be S3's."""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lambent.errors import S3InvalidArgument

CONFIG = "s3_bucket_notification"  # per bucket, in the bucket's account
KINDS = {
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
    "QueueConfigurations": "QueueArn",
    "TopicConfigurations": "TopicArn",
}
EVENTS = frozenset(
    {
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """One configuration: where, for which events, for which keys."""

    kind: str  # "lambda" | "sqs" | "sns"
    arn: str
    config_id: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def wants(self, event_name: str, key: str) -> bool:
        named = any(fnmatch.fnmatchcase(event_name, e.removeprefix("s3:")) for e in self.events)
        return named and key.startswith(self.prefix) and key.endswith(self.suffix)


def _rules(cfg: Mapping[str, Any]) -> tuple[str, str]:
    prefix = suffix = None
    for rule in ((cfg.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
        name = str(rule.get("Name", "")).lower()
        if name not in ("prefix", "suffix"):
            raise S3InvalidArgument("filter rule name must be either prefix or suffix")
        if (prefix if name == "prefix" else suffix) is not None:
            raise S3InvalidArgument("Cannot specify more than one " + name + " rule in a filter.")
        if name == "prefix":
            prefix = str(rule.get("Value", ""))
        else:
            suffix = str(rule.get("Value", ""))
    return prefix or "", suffix or ""


def targets(config: Mapping[str, Any]) -> Iterator[Target]:
    for section, arn_key in KINDS.items():
        kind = {"LambdaFunctionConfigurations": "lambda", "QueueConfigurations": "sqs"}.get(
            section, "sns"
        )
        for cfg in config.get(section) or []:
            prefix, suffix = _rules(cfg)
            events = tuple(cfg.get("Events") or [])
            yield Target(kind, str(cfg[arn_key]), str(cfg.get("Id") or ""), events, prefix, suffix)


def _concrete(events: tuple[str, ...]) -> set[str]:
    """`s3:ObjectCreated:*` stands for every ObjectCreated event."""
    out: set[str] = set()
    for e in events:
        family = e.rsplit(":", 1)[0]
        out |= {x for x in EVENTS if x == e or (e.endswith(":*") and x.startswith(family + ":"))}
    return {x for x in out if not x.endswith(":*")}


def _overlap(a: Target, b: Target) -> bool:
    if not (_concrete(a.events) & _concrete(b.events)):
        return False
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def normalize(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check the pure rules and give every configuration an Id (as S3 does)."""
    out: dict[str, Any] = {}
    for section in KINDS:
        items = []
        for cfg in config.get(section) or []:
            events = cfg.get("Events") or []
            if not events:
                raise S3InvalidArgument("The notification configuration must name events")
            for e in events:
                if e not in EVENTS:
                    raise S3InvalidArgument("The event is not supported for notifications")
            items.append({**cfg, "Id": cfg.get("Id") or str(uuid.uuid4())})
        if items:
            out[section] = items
    found = list(targets(out))
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            if _overlap(a, b):
                raise S3InvalidArgument(
                    "Configurations overlap. Configurations on the same bucket cannot share "
                    "a common event type."
                )
    return out
