"""AWS's S3 event record, version 2.1 (pure), as aws-sam-cli's bundled `s3/put.json`
shows it: eventVersion, eventSource aws:s3, eventName without the `s3:` prefix, the
bucket's ARN and owner, and the object's URL-encoded key, size, eTag, versionId and
sequencer. The key is encoded as S3 encodes it (Java's URLEncoder, `/` kept: a space is
`+`, `~` is `%7E`)."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from lambent.s3.model import NULL_VERSION, ObjectVersion


def encode_key(key: str) -> str:
    return urllib.parse.quote_plus(key, safe="/*").replace("~", "%7E")


def sequencer(version: ObjectVersion) -> str:
    """Hex of the write's time in nanoseconds: later writes to a key sort after."""
    return f"{int(version.last_modified * 1e9):018X}"


def record(
    *,
    event_name: str,
    region: str,
    bucket: str,
    owner: str,
    version: ObjectVersion,
    config_id: str,
    request_id: str,
) -> dict[str, Any]:
    at = datetime.fromtimestamp(version.last_modified, UTC)
    obj: dict[str, Any] = {"key": encode_key(version.key)}
    if event_name.startswith("ObjectCreated"):
        obj["size"] = version.size
        obj["eTag"] = version.etag.strip('"')
    if version.version_id != NULL_VERSION:
        obj["versionId"] = version.version_id
    obj["sequencer"] = sequencer(version)
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": event_name,
        "userIdentity": {"principalId": f"AWS:{owner}"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": request_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }
