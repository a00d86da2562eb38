"""Lambent's code signature: what `lambent sign` writes and deployments are checked against.

AWS puts a signature made by AWS Signer inside the deployment package. Lambent does the
same with its own format, so unchanged `CreateFunction`/`UpdateFunctionCode` calls carry
it: the zip holds a file `.lambent-signature.json`

    {"format": 1, "signingProfileVersionArn": "arn:aws:signer:...:/signing-profiles/N/V",
     "algorithm": "Ed25519" | "ECDSA-P256-SHA256",
     "digest": "<hex SHA-256 of the content>", "signature": "<base64>"}

where the content digest is SHA-256 over every other entry, by name in sorted order:
`name UTF-8, NUL, SHA-256 of the entry's bytes`. The signature is over the digest's 32
bytes, with the private key of the signing profile (Ed25519, or ECDSA P-256 with SHA-256).
The digest covers names and contents, not the zip's own bytes, so adding the signature
file does not change what was signed, and re-zipping the same files keeps it valid.

`cryptography` is imported where a signature is made or checked, not at import time: the
server starts without it, and only a deployment that checks a signature needs it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

SIGNATURE_FILE = ".lambent-signature.json"
FORMAT = 1


class Verdict(enum.Enum):
    VALID = "valid"
    UNSIGNED = "unsigned"  # no signature file
    UNTRUSTED = "untrusted"  # signed, but not by an allowed publisher, or not verifiable
    CORRUPT = "corrupt"  # the content is not what was signed (integrity check failed)


@dataclass(frozen=True)
class Package:
    """What a deployment package says about its signature."""

    digest: str  # hex SHA-256 of the content (every entry but the signature file)
    signature: dict[str, Any] | None  # the signature file, parsed; None if absent


def read(data: bytes) -> Package:
    """The content digest and the signature file of a zip (the caller checked it unzips)."""
    entries: list[tuple[str, bytes]] = []
    signature: dict[str, Any] | None = None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            body = archive.read(info)
            if info.filename == SIGNATURE_FILE:
                signature = _parse(body)
            else:
                entries.append((info.filename, body))
    return Package(content_digest(entries), signature)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def content_digest(entries: list[tuple[str, bytes]]) -> str:
    total = hashlib.sha256()
    for name, body in sorted(entries, key=lambda e: e[0].encode()):
        total.update(name.encode() + b"\0" + hashlib.sha256(body).digest())
    return total.hexdigest()


def verify(package: Package, allowed: dict[str, str]) -> Verdict:
    """`allowed`: the public keys (PEM) of the profile versions the config allows."""
    doc = package.signature
    if doc is None:
        return Verdict.UNSIGNED
    if doc.get("format") != FORMAT or doc.get("digest") != package.digest:
        return Verdict.CORRUPT
    key = allowed.get(str(doc.get("signingProfileVersionArn")))
    if key is None:
        return Verdict.UNTRUSTED
    try:
        signature = base64.b64decode(str(doc.get("signature")), validate=True)
    except ValueError:
        return Verdict.CORRUPT
    ok = _check(key, signature, bytes.fromhex(package.digest))
    return Verdict.VALID if ok else Verdict.UNTRUSTED


def _check(public_pem: str, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def public_key_id(public_pem: str) -> str:
    """A profile version's id: 10 characters of the public key's SHA-256 (DER), upper
    case, like AWS Signer's profile versions; a new key is a new version."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(public_pem.encode())
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:10].upper()


def sign(data: bytes, private_pem: bytes, profile_version_arn: str) -> bytes:
    """The zip with a `.lambent-signature.json` made with the private key (an old one is
    replaced)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key = serialization.load_pem_private_key(private_pem, password=None)
    digest = read(data).digest
    if isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm, signature = "Ed25519", key.sign(bytes.fromhex(digest))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(bytes.fromhex(digest), ec.ECDSA(hashes.SHA256()))
        algorithm = "ECDSA-P256-SHA256"
    else:
        raise ValueError("the signing key must be Ed25519 or ECDSA P-256")
    doc = {
        "format": FORMAT,
        "signingProfileVersionArn": profile_version_arn,
        "algorithm": algorithm,
        "digest": digest,
        "signature": base64.b64encode(signature).decode(),
    }
    return _with_signature(data, json.dumps(doc, indent=2).encode())


def _with_signature(data: bytes, signature: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            if info.filename != SIGNATURE_FILE:
                dst.writestr(info, src.read(info))
        dst.writestr(SIGNATURE_FILE, signature)
    return out.getvalue()
