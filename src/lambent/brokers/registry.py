"""Registered brokers: an existing RabbitMQ, named by an Amazon MQ-style ARN.

Lambent does not run brokers; an operator registers one that exists
(`lambent brokers add NAME amqp://user:pass@host:5672/vhost`) and gets
`arn:aws:mq:REGION:ACCOUNT:broker:NAME:b-<uuid>`, the ARN an event source mapping's
EventSourceArn names (as with Amazon MQ for RabbitMQ). One store document per broker
(kind `mq_broker`, keyed by name in its account: SQLite and PostgreSQL alike). The URL
may carry a password, so it is sealed under the master key (the broker's ARN as
associated data); the document shows it only with the password masked.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from lambent.auth.sealing import Sealer
from lambent.clock import Clock
from lambent.store.interface import Doc, Store

KIND = "mq_broker"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,50}")
_ARN = re.compile(r"arn:aws:mq:([a-z0-9-]+):(\d{12}):broker:([A-Za-z0-9_-]+):(b-[0-9a-f-]{36})")


class BrokerError(ValueError):
    """A broker the operator cannot register as given (the CLI prints it)."""


@dataclass(frozen=True)
class Broker:
    name: str
    arn: str
    url: str  # with its password: only for the poller that connects

    @property
    def masked(self) -> str:
        return mask(self.url)


def mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username}:***@{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check(name: str, url: str) -> None:
    if not _NAME.fullmatch(name):
        raise BrokerError("a broker name is 1-50 letters, digits, '-' or '_'")
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise BrokerError("the URL must be amqp://[user:password@]host[:port][/vhost]")


def parse_arn(arn: str) -> tuple[str, str] | None:
    """(account, name) of a broker ARN, or None when it is not one."""
    match = _ARN.fullmatch(arn)
    return (match.group(2), match.group(3)) if match else None


class Brokers:
    def __init__(self, store: Store, sealer: Sealer, clock: Clock) -> None:
        self._store = store
        self._sealer = sealer
        self._clock = clock

    async def add(self, account: str, region: str, name: str, url: str) -> Broker:
        check(name, url)
        arn = f"arn:aws:mq:{region}:{account}:broker:{name}:b-{uuid.uuid4()}"
        doc: Doc = {
            "name": name,
            "arn": arn,
            "url": self._sealer.seal(url, f"mq-broker:{arn}"),
            "shown": mask(url),
            "created": self._clock.time(),
        }
        if not await self._store.insert(KIND, account, name, doc):
            raise BrokerError(f"a broker named {name} is already registered")
        return Broker(name, arn, url)

    async def list(self, account: str) -> list[Broker]:
        return [self._opened(row.doc) for row in await self._store.list(KIND, account)]

    async def by_arn(self, arn: str) -> Broker | None:
        parsed = parse_arn(arn)
        if parsed is None:
            return None
        doc = await self._store.get(KIND, parsed[0], parsed[1])
        return self._opened(doc) if doc is not None and doc["arn"] == arn else None

    async def exists(self, arn: str) -> bool:
        parsed = parse_arn(arn)
        if parsed is None:
            return False
        doc = await self._store.get(KIND, parsed[0], parsed[1])
        return doc is not None and doc["arn"] == arn

    def _opened(self, doc: Doc) -> Broker:
        url = self._sealer.open(doc["url"], f"mq-broker:{doc['arn']}")
        return Broker(doc["name"], doc["arn"], url)
