"""Multipart upload operations: create, upload part, complete, abort."""

from __future__ import annotations

from lambent.api.context import RequestContext
from lambent.api.dispatch import ServiceHandlers
from lambent.api.s3.common import Result
from lambent.api.s3.objects import attributes, checksum_members, prepare
from lambent.s3 import checksums
from lambent.s3.multipart import Requested
from lambent.s3.service import S3


def _requested(params: Result) -> list[Requested]:
    parts = (params.get("MultipartUpload") or {}).get("Parts") or []
    return [
        Requested(
            int(p.get("PartNumber", 0)),
            str(p.get("ETag", "")),
            {alg: str(p[member]) for member, alg in checksums.MEMBERS.items() if p.get(member)},
        )
        for p in parts
    ]


class MultipartHandlers(ServiceHandlers):
    service = "s3"

    def __init__(self, s3: S3) -> None:
        self._s3 = s3

    async def create_multipart_upload(self, ctx: RequestContext, params: Result) -> Result:
        bucket, key = params["Bucket"], params["Key"]
        upload_id = await self._s3.uploads.create(
            ctx.account_id, bucket, key, attributes(params, {})
        )
        out: Result = {"Bucket": bucket, "Key": key, "UploadId": upload_id}
        if params.get("ChecksumAlgorithm"):
            out["ChecksumAlgorithm"] = params["ChecksumAlgorithm"]
            out["ChecksumType"] = params.get("ChecksumType") or "COMPOSITE"
        return out

    async def upload_part(self, ctx: RequestContext, params: Result) -> Result:
        account, bucket, key = ctx.account_id, params["Bucket"], params["Key"]
        await self._s3.uploads.check(account, bucket, key, params["UploadId"])
        data = bytes(params.get("Body") or b"")
        declared = ctx.request.headers.get("x-amz-content-sha256")
        content, sums = await self._s3.content.work.run(
            prepare, self._s3.content, params, data, declared
        )
        part = await self._s3.uploads.put_part(
            account, bucket, key, params["UploadId"], params["PartNumber"], content, data, sums
        )
        out = {"ETag": part.etag, **checksum_members(sums)}
        out.pop("ChecksumType", None)
        return out

    async def complete_multipart_upload(self, ctx: RequestContext, params: Result) -> Result:
        bucket_name, key = params["Bucket"], params["Key"]
        whole = {m: params[m] for m in checksums.MEMBERS if params.get(m)}
        bucket, version = await self._s3.uploads.complete(
            ctx.account_id,
            bucket_name,
            key,
            params["UploadId"],
            _requested(params),
            whole,
        )
        out: Result = {
            "Location": f"/{bucket_name}/{key}",
            "Bucket": bucket_name,
            "Key": key,
            "ETag": version.etag,
            **checksum_members(version.checksums),
        }
        if bucket.versioned:
            out["VersionId"] = version.version_id
        return out

    async def abort_multipart_upload(self, ctx: RequestContext, params: Result) -> None:
        await self._s3.uploads.abort(
            ctx.account_id, params["Bucket"], params["Key"], params["UploadId"]
        )
