"""AWS Signature Version 4: the canonical request, the string to sign, the signature.

The same code verifies (server) and signs (the lambent CLI and the load generator), so the
two can never drift apart. Key derivation is cached per (secret, date, region, service):
on the hot path a verification costs one SHA-256 of the body and two HMACs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import hashlib
import hmac
import posixpath
from dataclasses import dataclass
from urllib.parse import quote, unquote

from lambent.auth import chunked

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_S = 15 * 60


class SignatureProblem(Exception):
    """Why a signature could not be checked; the API layer maps it to AWS's error."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "missing" | "malformed" | "expired"
        self.message = message


@dataclass(frozen=True)
class Authorization:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@functools.lru_cache(maxsize=256)
def parse_authorization(header: str | None) -> Authorization:
    """Cached: the dispatcher reads the scope to route, then the authenticator verifies."""
    if not header:
        raise SignatureProblem("missing", "Missing Authentication Token")
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureProblem(
            "malformed", f"Unsupported authorization algorithm {algorithm!r}; use {ALGORITHM}"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    try:
        credential = fields["Credential"]
        signed = fields["SignedHeaders"]
        signature = fields["Signature"]
        access_key, date, region, service, terminator = credential.split("/")
    except (KeyError, ValueError) as exc:
        raise SignatureProblem(
            "malformed",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters, with a credential of the form KEY/DATE/REGION/SERVICE/aws4_request.",
        ) from exc
    if terminator != "aws4_request":
        raise SignatureProblem("malformed", "Credential should be scoped with aws4_request.")
    return Authorization(access_key, date, region, service, tuple(signed.split(";")), signature)


def canonical_uri(raw_path: str, *, normalize: bool = True) -> str:
    """The path as signed. S3 signs it as sent: not normalized, not encoded a second time."""
    path = raw_path or "/"
    if not normalize:
        return quote(path, safe="/~%")
    normalized = posixpath.normpath(path)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    return quote(normalized, safe="/~")


def canonical_query(raw_query: str) -> str:
    if not raw_query:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in raw_query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    signed_headers: tuple[str, ...],
    payload_hash: str,
    *,
    normalize_path: bool = True,
) -> str:
    lines = [
        method.upper(),
        canonical_uri(raw_path, normalize=normalize_path),
        canonical_query(raw_query),
    ]
    for name in signed_headers:
        value = headers.get(name, "")
        lines.append(f"{name}:{' '.join(value.split())}")
    lines.append("")
    lines.append(";".join(signed_headers))
    lines.append(payload_hash)
    return "\n".join(lines)


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signature(secret: str, auth_date: str, region: str, service: str, to_sign: str) -> str:
    key = signing_key(secret, auth_date, region, service)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def request_time(headers: dict[str, str]) -> float:
    """Epoch seconds of X-Amz-Date (parsed by hand: strptime costs more than the HMACs)."""
    stamp = headers.get("x-amz-date")
    if stamp:
        try:
            if len(stamp) != 16 or stamp[8] != "T" or stamp[15] != "Z":
                raise ValueError(stamp)
            parts = (stamp[0:4], stamp[4:6], stamp[6:8], stamp[9:11], stamp[11:13], stamp[13:15])
            y, mo, d, h, mi, sec = (int(p) for p in parts)
            return calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0))
        except ValueError as exc:
            raise SignatureProblem("malformed", f"Invalid X-Amz-Date {stamp!r}") from exc
    raise SignatureProblem(
        "malformed",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    )


def verify(
    auth: Authorization,
    secret: str,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    now: float,
) -> bool:
    """True when the signature matches; raises SignatureProblem for a stale request."""
    when = request_time(headers)
    amz_date = headers.get("x-amz-date", "")
    skew = abs(now - when)
    if skew > MAX_SKEW_S:
        raise SignatureProblem(
            "expired",
            f"Signature expired: {amz_date} is now earlier than "
            f"{_stamp(now - MAX_SKEW_S)} ({_stamp(now)} - 15 min.)",
        )
    payload_hash = _payload_hash(headers.get("x-amz-content-sha256"), body)
    canonical = canonical_request(
        method,
        raw_path,
        raw_query,
        headers,
        auth.signed_headers,
        payload_hash,
        normalize_path=auth.service != "s3",
    )
    expected = signature(
        secret,
        auth.date,
        auth.region,
        auth.service,
        string_to_sign(amz_date, auth.scope, canonical),
    )
    if not hmac.compare_digest(expected, auth.signature):
        return False
    if payload_hash in chunked.SIGNED_STREAMING:
        return _verify_chunks(auth, secret, amz_date, expected, body, payload_hash)
    return True


def _payload_hash(declared: str | None, body: bytes) -> str:
    """The payload hash to sign with: a declared one (hex or a literal such as
    UNSIGNED-PAYLOAD) as sent, else the body's. Whether a declared hex hash matches the body
    is the service's check (S3 answers XAmzContentSHA256Mismatch)."""
    if declared and (declared in chunked.LITERAL_PAYLOAD_HASHES or len(declared) == 64):
        return declared
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def _verify_chunks(
    auth: Authorization, secret: str, amz_date: str, seed: str, body: bytes, mode: str
) -> bool:
    try:
        parsed = chunked.parse(body)
    except chunked.MalformedChunks:
        return False
    return chunked.verify_signatures(
        parsed,
        key=signing_key(secret, auth.date, auth.region, auth.service),
        amz_date=amz_date,
        scope=auth.scope,
        seed=seed,
        with_trailer=mode == chunked.STREAMING_SIGNED_TRAILER,
    )


def _stamp(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def sign_headers(
    *,
    method: str,
    url_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    access_key: str,
    secret: str,
    region: str,
    service: str,
    session_token: str | None = None,
    now: dt.datetime | None = None,
    payload_hash: str | None = None,
) -> dict[str, str]:
    """Headers to add to a request so that `verify` accepts it (used by our own clients)."""
    when = now or dt.datetime.now(dt.UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    out = {k.lower(): v for k, v in headers.items()}
    out["x-amz-date"] = amz_date
    if session_token:
        out["x-amz-security-token"] = session_token
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    else:
        out["x-amz-content-sha256"] = payload_hash
    signed = tuple(
        sorted(k for k in out if k in ("host", "content-type") or k.startswith("x-amz-"))
    )
    canonical = canonical_request(
        method, url_path, query, out, signed, payload_hash, normalize_path=service != "s3"
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    sig = signature(secret, date, region, service, string_to_sign(amz_date, scope, canonical))
    out["authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, "
        f"Signature={sig}"
    )
    return out
