"""Buckets: per account, with names unique across accounts, as on AWS."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from lambent.clock import Clock
from lambent.errors import (
    S3AccessDenied,
    S3BucketAlreadyExists,
    S3BucketAlreadyOwnedByYou,
    S3BucketNotEmpty,
    S3LocationConstraint,
    S3NoSuchBucket,
)
from lambent.s3 import names
from lambent.s3.versioning import Event, Versioning, transition
from lambent.store.interface import Store

BUCKET = "s3_bucket"
OWNER = "s3_bucket_owner"  # bucket name -> owning account, under no account: names are global
OBJECT = "s3_object"  # one document per key (all its versions), parent = the bucket
_GLOBAL = ""
# The one region whose endpoint takes a CreateBucket without a LocationConstraint.
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    region: str
    created: float
    versioning: Versioning = Versioning.UNVERSIONED
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def versioned(self) -> bool:
        """Whether answers carry x-amz-version-id (once versioning was ever turned on)."""
        return self.versioning is not Versioning.UNVERSIONED

    def to_doc(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "created": self.created,
            "versioning": self.versioning.value,
            "tags": dict(self.tags),
        }

    @classmethod
    def from_doc(cls, name: str, account: str, doc: dict[str, Any]) -> Bucket:
        return cls(
            name=name,
            account=account,
            region=str(doc["region"]),
            created=float(doc["created"]),
            versioning=Versioning(doc.get("versioning", Versioning.UNVERSIONED.value)),
            tags=dict(doc.get("tags") or {}),
        )


def bucket_region(location_constraint: str | None, endpoint_region: str) -> str:
    """The region a new bucket lands in, or AWS's refusal of the constraint."""
    if location_constraint is None or location_constraint == "":
        if endpoint_region != DEFAULT_REGION:
            raise S3LocationConstraint(
                "The unspecified location constraint is incompatible for the region specific "
                "endpoint this request was sent to."
            )
        return DEFAULT_REGION
    if location_constraint == DEFAULT_REGION:
        raise S3LocationConstraint(
            "The specified location-constraint is not valid", code="InvalidLocationConstraint"
        )
    region = "eu-west-1" if location_constraint == "EU" else location_constraint
    if region != endpoint_region:
        raise S3LocationConstraint(
            f"The {location_constraint} location constraint is incompatible for the region "
            "specific endpoint this request was sent to."
        )
    return region


class Buckets:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(
        self, account: str, endpoint_region: str, name: str, location_constraint: str | None
    ) -> Bucket:
        names.check_bucket(name)
        region = bucket_region(location_constraint, endpoint_region)
        bucket = Bucket(name, account, region, self._clock.time())
        async with self._store.transaction():
            owner = await self._store.get(OWNER, _GLOBAL, name)
            if owner is not None:
                if owner["account"] != account:
                    raise S3BucketAlreadyExists(name)
                existing = await self.get(account, name)
                # us-east-1 answers a repeated create of your own bucket with 200 (legacy).
                if region == DEFAULT_REGION and existing.region == DEFAULT_REGION:
                    return existing
                raise S3BucketAlreadyOwnedByYou(name)
            await self._store.insert(OWNER, _GLOBAL, name, {"account": account})
            await self._store.put(BUCKET, account, name, bucket.to_doc())
        return bucket

    async def get(self, account: str, name: str) -> Bucket:
        doc = await self._store.get(BUCKET, account, name)
        if doc is not None:
            return Bucket.from_doc(name, account, doc)
        if await self._store.get(OWNER, _GLOBAL, name) is not None:
            raise S3AccessDenied()  # someone else's bucket; no bucket policies here
        raise S3NoSuchBucket(name)

    async def list(self, account: str) -> list[Bucket]:
        return [
            Bucket.from_doc(r.key, account, r.doc) for r in await self._store.list(BUCKET, account)
        ]

    async def delete(self, account: str, name: str) -> None:
        async with self._store.transaction():
            await self.get(account, name)
            if await self._store.list(OBJECT, account, parent=name, limit=1):
                raise S3BucketNotEmpty(name)
            await self._store.delete(BUCKET, account, name)
            await self._store.delete(OWNER, _GLOBAL, name)

    async def _save(self, bucket: Bucket) -> None:
        await self._store.put(BUCKET, bucket.account, bucket.name, bucket.to_doc())

    async def set_versioning(self, account: str, name: str, event: Event) -> Bucket:
        async with self._store.transaction():
            bucket = await self.get(account, name)
            bucket = replace(bucket, versioning=transition(bucket.versioning, event))
            await self._save(bucket)
        return bucket

    async def set_tags(self, account: str, name: str, tags: dict[str, str]) -> None:
        async with self._store.transaction():
            await self._save(replace(await self.get(account, name), tags=dict(tags)))
