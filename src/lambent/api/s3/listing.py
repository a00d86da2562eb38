"""ListObjectsV2, ListObjects and ListObjectVersions over lambent.s3.listing's pages."""

from __future__ import annotations

import base64
import binascii

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.s3.common import Result, encoder, owner
from lambent.errors import S3InvalidArgument
from lambent.s3.listing import paginate, paginate_versions
from lambent.s3.model import ObjectVersion
from lambent.s3.service import S3

MAX_KEYS = 1000


def _max_keys(params: Result) -> int:
    value = params.get("MaxKeys")
    if value is None:
        return MAX_KEYS
    if value < 0:
        raise S3InvalidArgument("Argument maxKeys must be an integer between 0 and 2147483647")
    return min(int(value), MAX_KEYS)


def continuation_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def token_marker(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise S3InvalidArgument("The continuation token provided is incorrect") from exc


def _object(version: ObjectVersion, key: str | None) -> Result:
    out: Result = {
        "Key": key,
        "LastModified": version.last_modified,
        "ETag": version.etag,
        "Size": version.size,
        "StorageClass": "STANDARD",
    }
    if version.checksums:
        out["ChecksumAlgorithm"] = sorted(version.checksums)
        out["ChecksumType"] = "FULL_OBJECT"
    return out


class ListingHandlers(ServiceHandlers):
    service = "s3"

    def __init__(self, s3: S3) -> None:
        self._objects = s3.objects

    def _listed(
        self, ctx: RequestContext, params: Result, version: ObjectVersion, key: str | None
    ) -> Result:
        out = _object(version, key)
        # ListObjects always shows the owner; ListObjectsV2 only when asked (FetchOwner).
        if ctx.operation == "ListObjects" or params.get("FetchOwner"):
            out["Owner"] = owner(ctx.account_id)
        return out

    async def _page(self, ctx: RequestContext, params: Result, marker: str | None) -> Result:
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or None
        max_keys = _max_keys(params)
        entries = self._objects.current(ctx.account_id, params["Bucket"], prefix, marker)
        page = await paginate(
            entries, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys
        )
        enc = encoder(params)
        out: Result = {
            "Name": params["Bucket"],
            "Prefix": enc(prefix),
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Contents": [self._listed(ctx, params, v, enc(v.key)) for v in page.items] or None,
            "CommonPrefixes": [{"Prefix": enc(p)} for p in page.common_prefixes] or None,
            "Delimiter": enc(delimiter),
            "EncodingType": params.get("EncodingType"),
            "_last": page.last,
            "_count": len(page.items) + len(page.common_prefixes),
        }
        return out

    async def list_objects_v2(self, ctx: RequestContext, params: Result) -> Result:
        token = params.get("ContinuationToken")
        start_after = params.get("StartAfter")
        marker = token_marker(token) if token else start_after
        out = await self._page(ctx, params, marker)
        last, out["KeyCount"] = out.pop("_last"), out.pop("_count")
        if token:
            out["ContinuationToken"] = token
        if start_after:
            out["StartAfter"] = encoder(params)(start_after)
        if out["IsTruncated"] and last is not None:
            out["NextContinuationToken"] = continuation_token(last)
        return out

    async def list_objects(self, ctx: RequestContext, params: Result) -> Result:
        marker = params.get("Marker") or None
        out = await self._page(ctx, params, marker)
        last = out.pop("_last")
        out.pop("_count")
        enc = encoder(params)
        out["Marker"] = enc(marker or "")
        # S3 gives NextMarker only with a delimiter; without one the last key is the marker.
        if out["IsTruncated"] and last is not None and params.get("Delimiter"):
            out["NextMarker"] = enc(last)
        return out

    async def list_object_versions(self, ctx: RequestContext, params: Result) -> Result:
        prefix = params.get("Prefix") or ""
        delimiter = params.get("Delimiter") or None
        key_marker = params.get("KeyMarker") or None
        version_marker = params.get("VersionIdMarker") or None
        max_keys = _max_keys(params)
        entries = (
            (key, [(v, i == 0) for i, v in enumerate(versions)])
            async for key, versions in self._objects.entries(
                ctx.account_id,
                params["Bucket"],
                prefix,
                key_marker,
                from_marker=version_marker is not None,
            )
        )
        page, next_version = await paginate_versions(
            entries,
            lambda item: item[0].version_id,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            version_marker=version_marker,
            max_keys=max_keys,
        )
        enc = encoder(params)
        versions: list[Result] = []
        markers: list[Result] = []
        who = owner(ctx.account_id)
        for version, latest in page.items:
            entry: Result = {
                "Key": enc(version.key),
                "VersionId": version.version_id,
                "IsLatest": latest,
                "LastModified": version.last_modified,
                "Owner": who,
            }
            if version.delete_marker:
                markers.append(entry)
            else:
                entry.update(_object(version, enc(version.key)))
                versions.append(entry)
        out: Result = {
            "Name": params["Bucket"],
            "Prefix": enc(prefix),
            "KeyMarker": enc(key_marker or ""),
            "VersionIdMarker": version_marker or "",
            "MaxKeys": max_keys,
            "IsTruncated": page.truncated,
            "Versions": versions or None,
            "DeleteMarkers": markers or None,
            "CommonPrefixes": [{"Prefix": enc(p)} for p in page.common_prefixes] or None,
            "Delimiter": enc(delimiter),
            "EncodingType": params.get("EncodingType"),
        }
        if page.truncated:
            out["NextKeyMarker"] = enc(page.last)
            out["NextVersionIdMarker"] = next_version
        return out
