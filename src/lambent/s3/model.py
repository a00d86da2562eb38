"""An object version as stored: metadata in the store, bytes by content address."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NULL_VERSION = "null"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
# Request members S3 keeps with an object and answers back on GET/HEAD.
STORED_HEADERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
    "WebsiteRedirectLocation",
)


@dataclass(frozen=True, slots=True)
class Content:
    """Bytes stored once under their SHA-256; `etag` is the quoted MD5, as S3 shows it."""

    sha256: str
    size: int
    md5: str

    @property
    def etag(self) -> str:
        return f'"{self.md5}"'


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    key: str
    version_id: str
    last_modified: float
    delete_marker: bool = False
    content: Content | None = None
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    # A multipart object's ETag is not its MD5 but the MD5 of its parts' MD5s, "-N".
    multipart_etag: str | None = None

    @property
    def size(self) -> int:
        return self.content.size if self.content else 0

    @property
    def etag(self) -> str:
        if self.multipart_etag is not None:
            return self.multipart_etag
        return self.content.etag if self.content else ""

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"v": self.version_id, "t": self.last_modified}
        if self.delete_marker:
            doc["dm"] = True
        if self.content is not None:
            doc["c"] = [self.content.sha256, self.content.size, self.content.md5]
            doc["ct"] = self.content_type
        for key, value in (("m", self.metadata), ("h", self.headers), ("ck", self.checksums)):
            if value:
                doc[key] = dict(value)
        if self.multipart_etag is not None:
            doc["e"] = self.multipart_etag
        return doc

    @classmethod
    def from_doc(cls, key: str, doc: dict[str, Any]) -> ObjectVersion:
        content = None
        if doc.get("c"):
            sha, size, md5 = doc["c"]
            content = Content(str(sha), int(size), str(md5))
        return cls(
            key=key,
            version_id=str(doc["v"]),
            last_modified=float(doc["t"]),
            delete_marker=bool(doc.get("dm")),
            content=content,
            content_type=str(doc.get("ct") or DEFAULT_CONTENT_TYPE),
            metadata=dict(doc.get("m") or {}),
            headers=dict(doc.get("h") or {}),
            checksums=dict(doc.get("ck") or {}),
            multipart_etag=doc.get("e"),
        )


def versions_of(key: str, doc: dict[str, Any] | None) -> list[ObjectVersion]:
    """A key's versions, newest first."""
    if doc is None:
        return []
    return [ObjectVersion.from_doc(key, v) for v in doc.get("versions") or []]


def versions_doc(versions: list[ObjectVersion]) -> dict[str, Any]:
    return {"versions": [v.to_doc() for v in versions]}
