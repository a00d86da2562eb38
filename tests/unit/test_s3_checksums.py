"""Upload integrity: the flexible checksums (standard check values) and Content-MD5."""

from __future__ import annotations

import base64
import hashlib

import pytest

from lambent.errors import S3BadDigest, S3InvalidDigest
from lambent.s3 import checksums

CHECK = b"123456789"  # the CRC catalogue's check input


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", 0xCBF43926),
        ("CRC32C", 0xE3069283),
        ("CRC64NVME", 0xAE8B14860A799888),
    ],
)
def test_crc_check_values(algorithm: str, value: int) -> None:
    assert int.from_bytes(checksums.digest(algorithm, CHECK), "big") == value


def test_digests_are_base64_as_on_the_wire() -> None:
    assert checksums.encoded("CRC32", b"hello world") == "DUoRhQ=="  # what botocore sends
    assert checksums.encoded("SHA256", b"") == base64.b64encode(hashlib.sha256().digest()).decode()
    assert checksums.encoded("SHA1", b"a") == base64.b64encode(hashlib.sha1(b"a").digest()).decode()
    assert checksums.encoded("CRC32C", b"") == "AAAAAA=="
    with pytest.raises(ValueError):
        checksums.digest("MD4", b"")


def test_verify_returns_the_checked_values_and_rejects_a_mismatch() -> None:
    data = b"payload"
    sent = {m: checksums.encoded(a, data) for m, a in checksums.MEMBERS.items()}
    assert checksums.verify(dict(sent), data) == {a: sent[m] for m, a in checksums.MEMBERS.items()}
    for member, algorithm in checksums.MEMBERS.items():
        with pytest.raises(S3BadDigest, match=f"The {algorithm} you specified did not match"):
            checksums.verify({member: checksums.encoded(algorithm, b"other")}, data)


def test_content_md5() -> None:
    data = b"payload"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert checksums.verify({"ContentMD5": good}, data) == {}
    with pytest.raises(S3BadDigest) as err:
        checksums.verify(
            {"ContentMD5": base64.b64encode(hashlib.md5(b"x").digest()).decode()}, data
        )
    assert err.value.fields["CalculatedDigest"] == good
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(S3InvalidDigest):
            checksums.verify({"ContentMD5": bad}, data)
