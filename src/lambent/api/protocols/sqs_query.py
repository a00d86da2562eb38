"""SQS's query protocol (form-encoded requests, XML answers), which the aws CLI v1 and
SDKs spoke before SQS moved to JSON and older SDKs still speak.

botocore's current `sqs` model is JSON-only and has dropped the query member names
(`Attribute.1.Name`, `SendMessageBatchRequestEntry.1.Id`, ...). They are put back here, as
the 2012-11-05 query model had them, on a copy of the model whose protocol is `query`:
the same shapes, so handlers, validation and errors are shared; only the wire differs."""

from __future__ import annotations

import copy
import functools
from typing import Any

import botocore.session
from botocore.model import ServiceModel

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

# (structure, member) -> its name on the wire (flattened lists and maps take it as theirs).
MEMBER_NAMES: dict[tuple[str, str], str] = {
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("GetQueueAttributesRequest", "AttributeNames"): "AttributeName",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchRequest", "Entries"): "SendMessageBatchRequestEntry",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchResult", "Successful"): "SendMessageBatchResultEntry",
    ("SendMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("ReceiveMessageRequest", "AttributeNames"): "AttributeName",
    ("ReceiveMessageRequest", "MessageSystemAttributeNames"): "MessageSystemAttributeName",
    ("ReceiveMessageRequest", "MessageAttributeNames"): "MessageAttributeName",
    ("ReceiveMessageResult", "Messages"): "Message",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("DeleteMessageBatchRequest", "Entries"): "DeleteMessageBatchRequestEntry",
    ("DeleteMessageBatchResult", "Successful"): "DeleteMessageBatchResultEntry",
    ("DeleteMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("ChangeMessageVisibilityBatchRequest", "Entries"): "ChangeMessageVisibilityBatchRequestEntry",
    ("ChangeMessageVisibilityBatchResult", "Successful"): "ChangeMessageVisibilityBatchResultEntry",
    ("ChangeMessageVisibilityBatchResult", "Failed"): "BatchResultErrorEntry",
    ("ListQueuesResult", "QueueUrls"): "QueueUrl",
    ("ListDeadLetterSourceQueuesResult", "queueUrls"): "QueueUrl",
    ("TagQueueRequest", "Tags"): "Tag",
    ("UntagQueueRequest", "TagKeys"): "TagKey",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("AddPermissionRequest", "AWSAccountIds"): "AWSAccountId",
    ("AddPermissionRequest", "Actions"): "ActionName",
    ("ListMessageMoveTasksResult", "Results"): "ListMessageMoveTasksResultEntry",
}
# Map shapes' entry names: Attribute.1.Name / Attribute.1.Value, Tag.1.Key / Tag.1.Value.
MAP_NAMES: dict[str, tuple[str, str]] = {
    "QueueAttributeMap": ("Name", "Value"),
    "MessageBodyAttributeMap": ("Name", "Value"),
    "MessageBodySystemAttributeMap": ("Name", "Value"),
    "MessageSystemAttributeMap": ("Name", "Value"),
    "TagMap": ("Key", "Value"),
}


@functools.cache
def query_model() -> ServiceModel:
    return ServiceModel(query_model_data(), service_name="sqs")


def query_model_data() -> dict[str, Any]:
    """The model as a JSON document (a query-protocol SDK can be built on it)."""
    loader = botocore.session.get_session().get_component("data_loader")
    data: dict[str, Any] = copy.deepcopy(
        loader.load_service_model("sqs", "service-2", api_version="2012-11-05")
    )
    data["metadata"] = {
        **data["metadata"],
        "protocol": "query",
        "protocols": ["query"],
        "xmlNamespace": NAMESPACE,
    }
    for name, op in data["operations"].items():  # <CreateQueueResult>...</CreateQueueResult>
        if "output" in op:
            op["output"]["resultWrapper"] = f"{name}Result"
    shapes = data["shapes"]
    for (shape, member), name in MEMBER_NAMES.items():
        if shape in shapes and member in shapes[shape].get("members", {}):
            ref = shapes[shape]["members"][member]
            ref["locationName"] = name
            target = shapes[ref["shape"]]
            if target.get("type") == "list":
                target["flattened"] = True
    for shape, (key, value) in MAP_NAMES.items():
        if shape in shapes:
            shapes[shape]["key"]["locationName"] = key
            shapes[shape]["value"]["locationName"] = value
            shapes[shape]["flattened"] = True
    return data
