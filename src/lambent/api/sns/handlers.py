"""SNS operations on the wire (query protocol): thin, over sns/service.py."""

from __future__ import annotations

from typing import Any

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.errors import ServiceError
from lambent.sns.errors import invalid
from lambent.sns.service import Notifications

PAGE = 100


def _page(docs: list[Any], key: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
    token = params.get("NextToken")
    if token:
        docs = [d for d in docs if d[key] > token]
    page = docs[:PAGE]
    return page, (page[-1][key] if len(docs) > PAGE else None)


def _subscription_view(doc: dict[str, Any]) -> dict[str, str]:
    return {
        "SubscriptionArn": doc["arn"] if doc.get("confirmed", True) else "PendingConfirmation",
        "Owner": doc["owner"],
        "Protocol": doc["protocol"],
        "Endpoint": doc["endpoint"],
        "TopicArn": doc["topic_arn"],
    }


class SnsHandlers(ServiceHandlers):
    service = "sns"

    def __init__(self, sns: Notifications) -> None:
        self._sns = sns

    # -- topics ----------------------------------------------------------------------------
    async def create_topic(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = await self._sns.create_topic(
            ctx.account_id,
            ctx.region,
            params["Name"],
            params.get("Attributes") or {},
            params.get("Tags"),
        )
        return {"TopicArn": arn}

    async def delete_topic(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._sns.delete_topic(params["TopicArn"])

    async def list_topics(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        docs = await self._sns.list_topics(ctx.account_id, None, 0)
        page, token = _page(docs, "arn", params)
        out: dict[str, Any] = {"Topics": [{"TopicArn": d["arn"]} for d in page]}
        if token:
            out["NextToken"] = token
        return out

    async def get_topic_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {"Attributes": await self._sns.topic_attributes(params["TopicArn"])}

    async def set_topic_attributes(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._sns.set_topic_attribute(
            params["TopicArn"], params["AttributeName"], params.get("AttributeValue") or ""
        )

    async def tag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._sns.set_tags(params["ResourceArn"], params.get("Tags") or [], [])

    async def untag_resource(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._sns.set_tags(params["ResourceArn"], [], params.get("TagKeys") or [])

    async def list_tags_for_resource(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        doc = await self._sns.topic(params["ResourceArn"])
        return {"Tags": doc.get("tags") or []}

    # -- subscriptions ---------------------------------------------------------------------
    async def subscribe(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        arn = await self._sns.subscribe(
            params["TopicArn"],
            params["Protocol"],
            params.get("Endpoint"),
            params.get("Attributes") or {},
            ctx.account_id,
        )
        return {"SubscriptionArn": arn}

    async def unsubscribe(self, ctx: RequestContext, params: dict[str, Any]) -> None:
        await self._sns.unsubscribe(params["SubscriptionArn"])

    async def get_subscription_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        doc = await self._sns.subscription(params["SubscriptionArn"])
        attrs = {
            "SubscriptionArn": doc["arn"],
            "TopicArn": doc["topic_arn"],
            "Owner": doc["owner"],
            "Protocol": doc["protocol"],
            "Endpoint": doc["endpoint"],
            "ConfirmationWasAuthenticated": "true",
            "PendingConfirmation": "false" if doc.get("confirmed", True) else "true",
            "RawMessageDelivery": "false",
        }
        attrs.update(doc.get("attributes") or {})
        return {"Attributes": attrs}

    async def set_subscription_attributes(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> None:
        await self._sns.set_subscription_attribute(
            params["SubscriptionArn"], params["AttributeName"], params.get("AttributeValue") or ""
        )

    async def list_subscriptions(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._subs(await self._sns.list_subscriptions(ctx.account_id, None), params)

    async def list_subscriptions_by_topic(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        docs = await self._sns.list_subscriptions(ctx.account_id, params["TopicArn"])
        return self._subs(docs, params)

    def _subs(self, docs: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        page, token = _page(docs, "arn", params)
        out: dict[str, Any] = {"Subscriptions": [_subscription_view(d) for d in page]}
        if token:
            out["NextToken"] = token
        return out

    # -- publishing ------------------------------------------------------------------------
    async def publish(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        topic = params.get("TopicArn") or params.get("TargetArn")
        if not topic:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")
        message_id = await self._sns.publish(
            topic,
            params["Message"],
            params.get("Subject"),
            params.get("MessageAttributes"),
            params.get("MessageStructure"),
        )
        return {"MessageId": message_id}

    async def publish_batch(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("PublishBatchRequestEntries") or []
        ids = [e["Id"] for e in entries]
        if len(ids) != len(set(ids)):
            raise ServiceError(
                "Two or more batch entries in the request have the same Id.",
                code="BatchEntryIdsNotDistinct",
            )
        if len(entries) > 10:
            raise ServiceError(
                "The batch request contains more entries than permissible.",
                code="TooManyEntriesInBatchRequest",
            )
        await self._sns.topic(params["TopicArn"])
        ok, failed = [], []
        for e in entries:
            try:
                mid = await self._sns.publish(
                    params["TopicArn"],
                    e["Message"],
                    e.get("Subject"),
                    e.get("MessageAttributes"),
                    e.get("MessageStructure"),
                )
                ok.append({"Id": e["Id"], "MessageId": mid})
            except ServiceError as err:
                failed.append(
                    {"Id": e["Id"], "Code": err.code, "Message": err.message, "SenderFault": True}
                )
        return {"Successful": ok, "Failed": failed}
