"""SNS's domain API: topics, subscriptions, Publish. The handlers (api/sns) and the other
services that publish (async destinations, S3 notifications) call it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from lambent.clock import Clock
from lambent.sns import names, subscriptions
from lambent.sns.delivery import Delivery
from lambent.sns.errors import SubscriptionNotFound, TopicNotFound, invalid
from lambent.sns.messages import Published, parse_structure
from lambent.sns.topics import TopicRepository, topic_doc
from lambent.store.interface import Doc

MAX_MESSAGE = 262_144
TOPIC_ATTRIBUTES = frozenset(
    {
        "DisplayName",
        "Policy",
        "DeliveryPolicy",
        "KmsMasterKeyId",
        "TracingConfig",
        "SignatureVersion",
        "ContentBasedDeduplication",
        "FifoTopic",
        "ArchivePolicy",
        "FifoThroughputScope",
        "DataProtectionPolicy",
    }
)


class Notifications:
    def __init__(self, repo: TopicRepository, delivery: Delivery, clock: Clock) -> None:
        self.repo = repo
        self.delivery = delivery
        self.clock = clock

    # -- topics ----------------------------------------------------------------------------
    async def create_topic(
        self, account: str, region: str, name: str, attributes: Mapping[str, str], tags: Any
    ) -> str:
        """Idempotent as AWS's: the same name answers the existing topic's ARN."""
        names.check_topic_name(name)
        fifo = attributes.get("FifoTopic", "false").lower() == "true"
        if fifo != name.endswith(".fifo"):
            raise invalid("Fifo Topic names must end with .fifo and Standard Topic names must not")
        if fifo:
            raise invalid("FIFO topics are not supported by Lambent")
        for key in attributes:
            if key not in TOPIC_ATTRIBUTES:
                raise invalid(f"Attributes Reason: Unknown attribute {key}")
        arn = names.topic_arn(region, account, name)
        doc = topic_doc(arn, name, account, dict(attributes), list(tags or []))
        await self.repo.insert_topic(account, name, doc)
        return arn

    async def topic(self, arn: str) -> Doc:
        parsed = names.parse_topic_arn(arn)
        if parsed is None:
            raise invalid("TopicArn")
        doc = await self.repo.topic(parsed[1], parsed[2])
        if doc is None or doc["arn"] != arn:
            raise TopicNotFound()
        return doc

    async def delete_topic(self, arn: str) -> None:
        parsed = names.parse_topic_arn(arn)
        if parsed is None:
            raise invalid("TopicArn")
        await self.repo.delete_topic(parsed[1], parsed[2], arn)

    async def list_topics(self, account: str, after: str | None, limit: int) -> list[Doc]:
        return await self.repo.topics(account, after, limit)

    async def topic_attributes(self, arn: str) -> dict[str, str]:
        doc = await self.topic(arn)
        subs = await self.repo.subscriptions(doc["owner"], arn)
        confirmed = sum(1 for s in subs if s.get("confirmed", True))
        out = {
            "TopicArn": arn,
            "Owner": doc["owner"],
            "DisplayName": "",
            "SubscriptionsConfirmed": str(confirmed),
            "SubscriptionsPending": str(len(subs) - confirmed),
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": '{"http":{"defaultHealthyRetryPolicy":'
            '{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,'
            '"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},'
            '"disableSubscriptionOverrides":false}}',
        }
        out.update(doc["attributes"])
        return out

    async def set_topic_attribute(self, arn: str, name: str, value: str) -> None:
        if name not in TOPIC_ATTRIBUTES or name == "FifoTopic":
            raise invalid("AttributeName")
        doc = await self.topic(arn)
        doc["attributes"][name] = value
        await self.repo.put_topic(doc["owner"], doc["name"], doc)

    async def set_tags(
        self, arn: str, add: Sequence[Mapping[str, str]], remove: Sequence[str]
    ) -> None:
        doc = await self.topic(arn)
        tags = {t["Key"]: t["Value"] for t in doc.get("tags") or []}
        tags.update({t["Key"]: t["Value"] for t in add})
        for key in remove:
            tags.pop(key, None)
        doc["tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        await self.repo.put_topic(doc["owner"], doc["name"], doc)

    # -- subscriptions ---------------------------------------------------------------------
    async def subscribe(
        self,
        topic_arn: str,
        protocol: str,
        endpoint: str | None,
        attributes: Mapping[str, str],
        owner: str,
    ) -> str:
        topic = await self.topic(topic_arn)
        endpoint = subscriptions.check_endpoint(protocol, endpoint)
        for key, value in attributes.items():
            subscriptions.check_attribute(protocol, key, value)
        for sub in await self.repo.subscriptions(topic["owner"], topic_arn):
            if sub["protocol"] == protocol and sub["endpoint"] == endpoint:
                return str(sub["arn"])
        doc = {
            "arn": names.subscription_arn(topic_arn),
            "topic_arn": topic_arn,
            "owner": owner,
            "protocol": protocol,
            "endpoint": endpoint,
            "attributes": dict(attributes),
            "confirmed": protocol in ("lambda", "sqs"),
        }
        await self.repo.put_subscription(topic["owner"], doc)
        return str(doc["arn"])

    async def subscription(self, arn: str) -> Doc:
        topic = names.topic_of_subscription(arn)
        parsed = names.parse_topic_arn(topic or "")
        if topic is None or parsed is None:
            raise invalid("SubscriptionArn")
        doc = await self.repo.subscription(parsed[1], arn)
        if doc is None:
            raise SubscriptionNotFound()
        return doc

    async def unsubscribe(self, arn: str) -> None:
        doc = await self.subscription(arn)
        await self.repo.delete_subscription(doc["topic_arn"].split(":")[4], arn)

    async def set_subscription_attribute(self, arn: str, name: str, value: str) -> None:
        doc = await self.subscription(arn)
        subscriptions.check_attribute(doc["protocol"], name, value)
        doc["attributes"][name] = value
        await self.repo.put_subscription(doc["topic_arn"].split(":")[4], doc)

    async def list_subscriptions(self, account: str, topic_arn: str | None) -> list[Doc]:
        if topic_arn is not None:
            topic = await self.topic(topic_arn)
            return await self.repo.subscriptions(topic["owner"], topic_arn)
        return await self.repo.subscriptions(account, None)

    # -- publishing ------------------------------------------------------------------------
    async def publish(
        self,
        topic_arn: str,
        message: str,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        structure: str | None = None,
    ) -> str:
        """Accept and fan out; every hand-over is durable when this returns."""
        topic = await self.topic(topic_arn)
        msg = self.prepare(topic_arn, message, subject, attributes, structure)
        await self.delivery.fan_out(msg, await self.repo.subscriptions(topic["owner"], topic_arn))
        return msg.message_id

    def prepare(
        self,
        topic_arn: str,
        message: str,
        subject: str | None,
        attributes: Mapping[str, Mapping[str, Any]] | None,
        structure: str | None,
    ) -> Published:
        if not message:
            raise invalid("Empty message")
        if len(message.encode()) > MAX_MESSAGE:
            raise invalid("Message too long")
        if subject is not None and (not subject or len(subject) > 100):
            raise invalid("Subject")
        parsed = None
        if structure == "json":
            parsed = parse_structure(message)
        elif structure is not None:
            raise invalid("MessageStructure")
        return Published(
            str(uuid.uuid4()),
            topic_arn,
            message,
            subject,
            self.clock.time(),
            dict(attributes or {}),
            parsed,
        )
