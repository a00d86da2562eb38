"""Bucket operations: create, head, delete, list, location, versioning, tagging."""

from __future__ import annotations

from lambent import paging
from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.s3.common import Result, owner
from lambent.errors import S3InvalidArgument, S3MalformedXML, S3NotFound
from lambent.s3.service import S3
from lambent.s3.versioning import Event, reported

# ListBuckets pages only when asked (MaxBuckets or a ContinuationToken), up to this many.
MAX_BUCKETS = 10_000


def _paged(buckets: list[Result], params: Result) -> tuple[list[Result], str | None]:
    """A page of buckets in name order, and the token for the next one (None: the last)."""
    token = params.get("ContinuationToken")
    try:
        after = paging.decode_shaped(token, (str,)) if token else None
    except paging.BadMarker as exc:
        raise S3InvalidArgument("The continuation token provided is incorrect") from exc
    limit = int(params.get("MaxBuckets") or MAX_BUCKETS)
    chunk, last = paging.page(buckets, lambda b: (str(b["Name"]),), after, limit)
    return chunk, (paging.encode(last) if last is not None else None)


class BucketHandlers(ServiceHandlers):
    service = "s3"

    def __init__(self, s3: S3) -> None:
        self._s3 = s3
        self._buckets = s3.buckets

    async def create_bucket(self, ctx: RequestContext, params: Result) -> Result:
        config = params.get("CreateBucketConfiguration") or {}
        name = params["Bucket"]
        await self._buckets.create(
            ctx.account_id, ctx.region, name, config.get("LocationConstraint")
        )
        return {"Location": f"/{name}"}

    async def head_bucket(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        return {"BucketRegion": bucket.region, "AccessPointAlias": False}

    async def delete_bucket(self, ctx: RequestContext, params: Result) -> None:
        await self._s3.delete_bucket(ctx.account_id, params["Bucket"])

    async def list_buckets(self, ctx: RequestContext, params: Result) -> Result:
        prefix = params.get("Prefix") or ""
        region = params.get("BucketRegion")
        buckets = [
            {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region}
            for b in await self._buckets.list(ctx.account_id)
            if b.name.startswith(prefix) and (region is None or b.region == region)
        ]
        out: Result = {"Buckets": buckets, "Owner": owner(ctx.account_id)}
        if params.get("MaxBuckets") is not None or params.get("ContinuationToken"):
            out["Buckets"], out["ContinuationToken"] = _paged(buckets, params)
        if prefix:
            out["Prefix"] = prefix
        return out

    async def get_bucket_location(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        # us-east-1 is reported as an empty constraint, as S3 always has.
        return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}

    async def put_bucket_versioning(self, ctx: RequestContext, params: Result) -> None:
        status = (params.get("VersioningConfiguration") or {}).get("Status")
        try:
            event = Event(status)
        except ValueError as exc:
            raise S3MalformedXML() from exc
        await self._buckets.set_versioning(ctx.account_id, params["Bucket"], event)

    async def get_bucket_versioning(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        status = reported(bucket.versioning)
        return {"Status": status} if status else {}

    async def put_bucket_tagging(self, ctx: RequestContext, params: Result) -> None:
        tag_set = (params.get("Tagging") or {}).get("TagSet") or []
        tags = {str(t["Key"]): str(t.get("Value", "")) for t in tag_set}
        await self._buckets.set_tags(ctx.account_id, params["Bucket"], tags)

    async def get_bucket_tagging(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        if not bucket.tags:
            raise S3NotFound("The TagSet does not exist", fields={"BucketName": bucket.name})
        return {"TagSet": [{"Key": k, "Value": v} for k, v in bucket.tags.items()]}

    async def delete_bucket_tagging(self, ctx: RequestContext, params: Result) -> None:
        await self._buckets.set_tags(ctx.account_id, params["Bucket"], {})

    async def get_object_lock_configuration(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        raise S3NotFound(
            "Object Lock configuration does not exist for this bucket",
            code="ObjectLockConfigurationNotFoundError",
            fields={"BucketName": bucket.name},
        )

    async def get_bucket_policy(self, ctx: RequestContext, params: Result) -> Result:
        bucket = await self._buckets.get(ctx.account_id, params["Bucket"])
        raise S3NotFound(
            "The bucket policy does not exist",
            code="NoSuchBucketPolicy",
            fields={"BucketName": bucket.name},
        )

    async def put_bucket_notification_configuration(
        self, ctx: RequestContext, params: Result
    ) -> None:
        await self._buckets.get(ctx.account_id, params["Bucket"])
        assert self._s3.notifications is not None  # wired wherever the API is served
        await self._s3.notifications.put(
            ctx.account_id, params["Bucket"], params.get("NotificationConfiguration") or {}
        )

    async def get_bucket_notification_configuration(
        self, ctx: RequestContext, params: Result
    ) -> Result:
        await self._buckets.get(ctx.account_id, params["Bucket"])
        assert self._s3.notifications is not None
        return await self._s3.notifications.get(ctx.account_id, params["Bucket"])
