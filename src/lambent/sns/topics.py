"""Topics and subscriptions as store documents (SQLite, PostgreSQL and memory alike).

A topic is `sns_topic` keyed by its name in its account; a subscription is
`sns_subscription` keyed by its ARN in the topic's account, listed under the topic's ARN,
so a Publish reads its topic's subscriptions with one `list`."""

from __future__ import annotations

from typing import Any

from lambent.store.interface import Doc, Store

TOPIC = "sns_topic"
SUBSCRIPTION = "sns_subscription"


class TopicRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def topic(self, account: str, name: str) -> Doc | None:
        return await self.store.get(TOPIC, account, name)

    async def put_topic(self, account: str, name: str, doc: Doc) -> None:
        await self.store.put(TOPIC, account, name, doc)

    async def insert_topic(self, account: str, name: str, doc: Doc) -> bool:
        return await self.store.insert(TOPIC, account, name, doc)

    async def delete_topic(self, account: str, name: str, arn: str) -> None:
        async with self.store.transaction():
            await self.store.delete_children(SUBSCRIPTION, account, arn)
            await self.store.delete(TOPIC, account, name)

    async def topics(self, account: str, after: str | None, limit: int) -> list[Doc]:
        rows = await self.store.list(TOPIC, account, after=after, limit=limit)
        return [r.doc for r in rows]

    async def subscription(self, account: str, arn: str) -> Doc | None:
        return await self.store.get(SUBSCRIPTION, account, arn)

    async def put_subscription(self, account: str, doc: Doc) -> None:
        await self.store.put(SUBSCRIPTION, account, doc["arn"], doc, parent=doc["topic_arn"])

    async def delete_subscription(self, account: str, arn: str) -> bool:
        return await self.store.delete(SUBSCRIPTION, account, arn)

    async def subscriptions(
        self, account: str, topic_arn: str | None, after: str | None = None, limit: int = 0
    ) -> list[Doc]:
        rows = await self.store.list(
            SUBSCRIPTION, account, parent=topic_arn, after=after, limit=limit or None
        )
        return [r.doc for r in rows]


def topic_doc(arn: str, name: str, owner: str, attributes: dict[str, str], tags: Any) -> Doc:
    return {"arn": arn, "name": name, "owner": owner, "attributes": attributes, "tags": tags}
