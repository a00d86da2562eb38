"""The checksums S3 verifies on upload: Content-MD5 and the flexible x-amz-checksum-*.

CRC32, SHA-1 and SHA-256 come from the standard library. CRC32C and CRC64NVME are written
out here (table-driven, reflected), because nothing on this machine provides them; they run
at Python speed (a few MB/s), which is fine for the code-sized objects this S3 is for.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import zlib

from lambent.errors import S3BadDigest, S3InvalidDigest

# Model member name -> algorithm, in the order S3 prefers them.
MEMBERS: dict[str, str] = {
    "ChecksumCRC32": "CRC32",
    "ChecksumCRC32C": "CRC32C",
    "ChecksumCRC64NVME": "CRC64NVME",
    "ChecksumSHA1": "SHA1",
    "ChecksumSHA256": "SHA256",
}
_CRC32C_POLY = 0x82F63B78
_CRC64NVME_POLY = 0x9A6C9329AC4BC9B5


@functools.cache
def _table(poly: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


def _reflected_crc(data: bytes, poly: int, width: int) -> int:
    mask = (1 << width) - 1
    table = _table(poly)
    crc = mask
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return _reflected_crc(data, _CRC32C_POLY, 32).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return _reflected_crc(data, _CRC64NVME_POLY, 64).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(f"unknown checksum algorithm {algorithm}")


def encoded(algorithm: str, data: bytes) -> str:
    return base64.b64encode(digest(algorithm, data)).decode()


def verify(params: dict[str, object], data: bytes) -> dict[str, str]:
    """Check every checksum the request carries; the verified ones, by algorithm."""
    md5 = params.get("ContentMD5")
    if md5 is not None:
        _verify_md5(str(md5), data)
    out: dict[str, str] = {}
    for member, algorithm in MEMBERS.items():
        sent = params.get(member)
        if sent is None:
            continue
        if encoded(algorithm, data) != str(sent):
            raise S3BadDigest(
                f"The {algorithm} you specified did not match the calculated checksum."
            )
        out[algorithm] = str(sent)
    return out


def _verify_md5(sent: str, data: bytes) -> None:
    try:
        expected = base64.b64decode(sent, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise S3InvalidDigest("The Content-MD5 you specified is not valid.") from exc
    if len(expected) != 16:
        raise S3InvalidDigest("The Content-MD5 you specified is not valid.")
    if hashlib.md5(data).digest() != expected:
        raise S3BadDigest(
            "The Content-MD5 you specified did not match what we received.",
            fields={
                "ExpectedDigest": sent,
                "CalculatedDigest": base64.b64encode(hashlib.md5(data).digest()).decode(),
            },
        )
