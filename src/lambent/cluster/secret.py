"""The cluster secret and the signature every internal request carries.

Frontends call workers over plain HTTP; what makes a request internal is an HMAC-SHA256,
under a key every node reads from the same file, of the method, the path, a timestamp and
the body's SHA-256. A worker answers 403 to a request without one, with a bad one, or with
one older (or newer) than `max_age_s`: a client without the secret, or a function inside
an environment, cannot invoke through a worker. A captured request could be replayed
within `max_age_s`; internal traffic is meant for a private network (docs/CLUSTER.md).
"""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

DATE_HEADER = "x-lambent-cluster-date"
SIGNATURE_HEADER = "x-lambent-cluster-signature"
MIN_SECRET_BYTES = 32


class SecretFileError(Exception):
    """The cluster secret file is missing, readable by others, or too short (for the
    operator: the message says which)."""


def load(path: Path) -> bytes:
    """The key in `path`: at least 32 bytes (surrounding whitespace ignored), mode 600."""
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise SecretFileError(f"cannot read the cluster secret {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretFileError(
            f"the cluster secret {path} is readable by others (mode {mode & 0o777:o}); "
            f"chmod 600 {path}"
        )
    if len(raw) < MIN_SECRET_BYTES:
        raise SecretFileError(
            f"the cluster secret {path} holds {len(raw)} bytes; it needs at least "
            f"{MIN_SECRET_BYTES} (e.g. head -c 48 /dev/urandom | base64 > {path})"
        )
    return raw


def _mac(key: bytes, method: str, path: str, date: str, body: bytes) -> str:
    material = b"\n".join(
        (method.encode(), path.encode(), date.encode(), hashlib.sha256(body).hexdigest().encode())
    )
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def sign(key: bytes, method: str, path: str, body: bytes, now: float) -> list[tuple[str, str]]:
    """The headers that make a request internal."""
    date = str(int(now))
    return [(DATE_HEADER, date), (SIGNATURE_HEADER, _mac(key, method, path, date, body))]


def verify(
    key: bytes,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    now: float,
    max_age_s: float,
) -> str | None:
    """None if the request is signed with `key` recently enough; else why not."""
    date = headers.get(DATE_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not date or not signature:
        return "missing cluster signature"
    try:
        when = int(date)
    except ValueError:
        return "malformed cluster date"
    if abs(now - when) > max_age_s:
        return "stale cluster signature"
    if not hmac.compare_digest(signature, _mac(key, method, path, date, body)):
        return "bad cluster signature"
    return None
