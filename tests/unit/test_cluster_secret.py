"""Internal requests: signed with the cluster key, refused without it, with another key,
with a changed body or path, or when stale; the key file must be private and long."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lambent.cluster import secret

KEY = b"k" * 40


def _headers(
    key: bytes, body: bytes = b"{}", path: str = "/p", now: float = 1000.0
) -> dict[str, str]:
    return dict(secret.sign(key, "POST", path, body, now))


def test_a_signed_request_verifies_and_any_change_does_not() -> None:
    signed = _headers(KEY)
    ok = secret.verify(KEY, "POST", "/p", b"{}", signed, 1000.0, 30.0)
    assert ok is None
    assert secret.verify(KEY, "POST", "/p", b"{ }", signed, 1000.0, 30.0) == "bad cluster signature"
    assert secret.verify(KEY, "POST", "/q", b"{}", signed, 1000.0, 30.0) == "bad cluster signature"
    assert secret.verify(KEY, "GET", "/p", b"{}", signed, 1000.0, 30.0) == "bad cluster signature"
    other = _headers(b"o" * 40)
    assert secret.verify(KEY, "POST", "/p", b"{}", other, 1000.0, 30.0) == "bad cluster signature"


def test_missing_malformed_and_stale_signatures_are_refused() -> None:
    assert secret.verify(KEY, "POST", "/p", b"", {}, 1000.0, 30.0) == "missing cluster signature"
    signed = _headers(KEY, b"")
    only_date = {secret.DATE_HEADER: signed[secret.DATE_HEADER]}
    assert secret.verify(KEY, "POST", "/p", b"", only_date, 1000.0, 30.0) is not None
    bad_date = {**signed, secret.DATE_HEADER: "soon"}
    assert secret.verify(KEY, "POST", "/p", b"", bad_date, 1000.0, 30.0) == "malformed cluster date"
    assert secret.verify(KEY, "POST", "/p", b"", signed, 1031.0, 30.0) == "stale cluster signature"
    assert secret.verify(KEY, "POST", "/p", b"", signed, 969.0, 30.0) == "stale cluster signature"
    assert secret.verify(KEY, "POST", "/p", b"", signed, 1030.0, 30.0) is None


def test_the_key_file_must_be_private_and_long_enough(tmp_path: Path) -> None:
    path = tmp_path / "cluster.secret"
    with pytest.raises(secret.SecretFileError, match="cannot read"):
        secret.load(path)
    path.write_bytes(b"short\n")
    os.chmod(path, 0o600)
    with pytest.raises(secret.SecretFileError, match="at least 32"):
        secret.load(path)
    path.write_bytes(b"x" * 48 + b"\n")
    os.chmod(path, 0o644)
    with pytest.raises(secret.SecretFileError, match="chmod 600"):
        secret.load(path)
    os.chmod(path, 0o600)
    assert secret.load(path) == b"x" * 48
