"""Lambent's signature format (code_signing/signatures.py): what `lambent sign` makes and
what a deployment is checked against."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from lambent.code_signing import signatures
from lambent.code_signing.signatures import SIGNATURE_FILE, Verdict

ARN = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/p/ABCDEF1234"
KEYS = [ed25519.Ed25519PrivateKey.generate, lambda: ec.generate_private_key(ec.SECP256R1())]


def package(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return out.getvalue()


def pems(key: object) -> tuple[bytes, str]:
    private = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


@pytest.mark.parametrize("make", KEYS, ids=["ed25519", "ecdsa-p256"])
def test_a_signed_package_verifies_with_its_profile_key(make: object) -> None:
    private, public = pems(make())  # type: ignore[operator]
    data = signatures.sign(package({"app.py": b"x = 1\n"}), private, ARN)
    assert signatures.verify(signatures.read(data), {ARN: public}) is Verdict.VALID


def test_the_digest_covers_names_and_contents_not_the_zip_or_its_order() -> None:
    a = package({"a.py": b"1", "b.py": b"2"})
    b = package({"b.py": b"2", "a.py": b"1"})
    assert signatures.read(a).digest == signatures.read(b).digest
    assert (
        signatures.read(a).digest != signatures.read(package({"a.py": b"1", "c.py": b"2"})).digest
    )


def test_unsigned_untrusted_and_corrupt_are_told_apart() -> None:
    private, public = pems(ed25519.Ed25519PrivateKey.generate())
    _, other = pems(ed25519.Ed25519PrivateKey.generate())
    data = signatures.sign(package({"app.py": b"x = 1\n"}), private, ARN)
    assert signatures.verify(signatures.read(package({"app.py": b""})), {ARN: public}) is (
        Verdict.UNSIGNED
    )
    assert signatures.verify(signatures.read(data), {}) is Verdict.UNTRUSTED
    assert signatures.verify(signatures.read(data), {ARN: other}) is Verdict.UNTRUSTED
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        doc = json.loads(zf.read(SIGNATURE_FILE))
    changed = package({"app.py": b"x = 2\n", SIGNATURE_FILE: json.dumps(doc).encode()})
    assert signatures.verify(signatures.read(changed), {ARN: public}) is Verdict.CORRUPT


def test_signing_again_replaces_the_signature() -> None:
    private, public = pems(ed25519.Ed25519PrivateKey.generate())
    once = signatures.sign(package({"app.py": b"1"}), private, ARN)
    twice = signatures.sign(once, private, ARN)
    with zipfile.ZipFile(io.BytesIO(twice)) as zf:
        assert [i.filename for i in zf.infolist()].count(SIGNATURE_FILE) == 1
    assert signatures.verify(signatures.read(twice), {ARN: public}) is Verdict.VALID


def test_a_profile_version_is_named_for_its_key() -> None:
    _, public = pems(ed25519.Ed25519PrivateKey.generate())
    version = signatures.public_key_id(public)
    assert len(version) == 10 and version == version.upper()
    assert signatures.public_key_id(public) == version
