"""Code.Location: a presigned-style download URL for a function's or layer's zip.

The token names the blob and an expiry and is signed with HMAC-SHA256 under a key derived
from the master key (auth/sealing.py), so every frontend (and a restarted server) accepts
the URLs the others handed out, and the database holds no signing key.
Lambda's own links are S3 presigned URLs valid for 10 minutes; these expire the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from lambent.clock import Clock

VALID_S = 600
PREFIX = "/_lambent/code/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CodeUrlSigner:
    def __init__(self, key: bytes, clock: Clock, endpoint: str) -> None:
        self._key = key
        self._clock = clock
        self._endpoint = endpoint.rstrip("/")

    async def url(self, sha256_hex: str, filename: str) -> str:
        payload = json.dumps(
            {"s": sha256_hex, "e": int(self._clock.time()) + VALID_S, "f": filename},
            separators=(",", ":"),
        ).encode()
        sig = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{self._endpoint}{PREFIX}{_b64(payload)}.{_b64(sig)}"

    async def verify(self, token: str) -> tuple[str, str] | None:
        """(sha256 hex, file name) of a valid, unexpired token; None otherwise."""
        try:
            body, _, sig = token.partition(".")
            payload = _unb64(body)
            expected = hmac.new(self._key, payload, hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(sig)):
                return None
            doc = json.loads(payload)
            if int(doc["e"]) < self._clock.time():
                return None
            return str(doc["s"]), str(doc.get("f") or "code.zip")
        except (ValueError, KeyError, TypeError):
            return None
