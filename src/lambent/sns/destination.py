"""An SNS topic as an async-invoke destination or dead-letter target: the record (or, for
a dead letter, the original event) is published to the topic; a dead letter's RequestID,
ErrorCode and ErrorMessage become String message attributes, as AWS sends them."""

from __future__ import annotations

from lambent.async_invoke.records import Message
from lambent.async_invoke.targets import TargetError
from lambent.sns.service import Notifications


class TopicTarget:
    service = "sns"

    def __init__(self, sns: Notifications) -> None:
        self._sns = sns

    async def send(self, arn: str, message: Message) -> None:
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in message.attributes.items()
        }
        try:
            body = message.body.decode()
        except UnicodeDecodeError as exc:
            raise TargetError("the message is not UTF-8 text") from exc
        await self._sns.publish(arn, body, None, attributes)
