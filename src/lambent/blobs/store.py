"""Content-addressed blobs (code and layer zips) and their read-only extractions.

A zip is stored once under its SHA-256, whoever uploads it. Its extraction is shared by
every function and version with the same code, and is never written after it is made, so
environments can mount it read-only at /var/task or /opt.

In a cluster the zips live in a shared store (PostgreSQL, `postgres.py`) and the data dir
is this node's cache: a node that runs code it has not seen fetches the zip by SHA-256
once, checks it against that digest, and keeps it and its extraction locally (the sandbox
mounts the extraction). Every method may block on disk or network: call them on the
blocking pool, never on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lambent.blobs.files import FileBlobs
from lambent.blobs.interface import BlobMissing, Blobs
from lambent.errors import InvalidParameterValue


@dataclass(frozen=True)
class BlobInfo:
    sha256_hex: str
    size: int

    @property
    def code_sha256(self) -> str:
        """AWS's CodeSha256: the base64 of the raw SHA-256 digest."""
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode()


class BlobStore:
    def __init__(self, root: Path, *, max_unzipped: int, shared: Blobs | None = None) -> None:
        """`shared`: the cluster's store of zips (None: this data dir is the only one)."""
        self._code = root / "code"
        self._tmp = root / "tmp"
        self._local = FileBlobs(root / "blobs", self._tmp)
        self._code.mkdir(parents=True, exist_ok=True)
        self._shared = shared
        self._max_unzipped = max_unzipped
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Lock] = {}
        self._fetching_guard = threading.Lock()

    def path(self, sha256_hex: str) -> Path:
        return self._local.path(sha256_hex)

    def exists(self, sha256_hex: str) -> bool:
        if self._local.exists(sha256_hex):
            return True
        return self._shared is not None and self._shared.exists(sha256_hex)

    def put(self, data: bytes) -> BlobInfo:
        """Store a zip: in the shared store first (it is what other nodes read), then here."""
        digest = hashlib.sha256(data).hexdigest()
        if self._shared is not None:
            self._shared.put(digest, data)
        self._local.put(digest, data)
        return BlobInfo(digest, len(data))

    def read(self, sha256_hex: str) -> bytes:
        """The zip's bytes (BlobMissing if no store has it)."""
        self.fetch(sha256_hex)
        return self._local.get(sha256_hex)

    def fetch(self, sha256_hex: str) -> None:
        """Make sure the zip is in this node's cache, fetching it from the shared store."""
        if self._local.exists(sha256_hex):
            return
        if self._shared is None:
            raise BlobMissing(sha256_hex)
        with self._fetch_lock(sha256_hex):  # once: others asking meanwhile wait for it
            if self._local.exists(sha256_hex):
                return
            data = self._shared.get(sha256_hex)
            if hashlib.sha256(data).hexdigest() != sha256_hex:
                raise BlobMissing(f"{sha256_hex}: the shared store returned other bytes")
            self._local.put(sha256_hex, data)

    def _fetch_lock(self, sha256_hex: str) -> threading.Lock:
        """One lock per zip fetched (a few per function at most), so fetches of different
        zips run side by side."""
        with self._fetching_guard:
            return self._fetching.setdefault(sha256_hex, threading.Lock())

    def check_zip(self, data: bytes) -> None:
        """Reject what Lambda rejects before it is stored: not a zip, or too big unzipped."""
        try:
            with zipfile.ZipFile(_BytesReader(data)) as zf:
                total = sum(info.file_size for info in zf.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InvalidParameterValue(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from exc
        if total >= self._max_unzipped:  # AWS refuses the limit itself too
            raise InvalidParameterValue(
                f"Unzipped size must be smaller than {self._max_unzipped} bytes"
            )

    def extracted(self, sha256_hex: str) -> Path:
        """The read-only extraction of a stored zip, made on first use."""
        target = self._code / sha256_hex
        if target.exists():
            return target
        self.fetch(sha256_hex)  # outside the lock: a slow fetch holds up no other extraction
        with self._lock:
            if target.exists():
                return target
            work = Path(tempfile.mkdtemp(dir=self._tmp))
            try:
                with zipfile.ZipFile(self.path(sha256_hex)) as zf:
                    _extract(zf, work)
                _freeze(work)
                work.chmod(0o755)
                os.replace(work, target)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
        return target

    def remove(self, sha256_hex: str) -> None:
        """Forget the zip and its extraction on this node (the shared store keeps it)."""
        self._local.remove(sha256_hex)
        code = self._code / sha256_hex
        if code.exists():
            for dirpath, dirnames, _ in os.walk(code):
                os.chmod(dirpath, 0o755)
                for d in dirnames:
                    os.chmod(os.path.join(dirpath, d), 0o755)
            shutil.rmtree(code, ignore_errors=True)


class _BytesReader:
    """A seekable view over bytes without copying them into a BytesIO."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n < 0 else min(len(self._view), self._pos + n)
        out = bytes(self._view[self._pos : end])
        self._pos = end
        return out

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True


def _extract(zf: zipfile.ZipFile, dest: Path) -> None:
    root = dest.resolve()
    for info in zf.infolist():
        name = info.filename
        target = (dest / name).resolve()
        if root not in target.parents and target != root:
            continue  # zip-slip: entries that would land outside are dropped
        mode = (info.external_attr >> 16) & 0xFFFF
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(mode):
            link = zf.read(info).decode("utf-8", "replace")
            if not os.path.isabs(link) and ".." not in Path(link).parts:
                target.unlink(missing_ok=True)
                os.symlink(link, target)
            continue
        with zf.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
        executable = bool(mode & 0o111)
        target.chmod(0o755 if executable else 0o644)


def _freeze(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o555)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                mode = os.stat(p).st_mode
                os.chmod(p, 0o555 if mode & 0o111 else 0o444)
