"""Sealed secrets: only the master key that sealed a value opens it, and only for the row
and field it was sealed for."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lambent.auth import sealing
from lambent.auth.sealing import Sealer, SealError, is_sealed


def test_a_sealed_value_opens_with_its_key_and_context_only() -> None:
    key = Sealer.generate()
    sealed = key.seal("wJalrXUtnFEMI/K7MDENG", "access_key/AKIA1/secret")
    assert is_sealed(sealed) and "wJalrXUtnFEMI" not in sealed
    assert key.open(sealed, "access_key/AKIA1/secret") == "wJalrXUtnFEMI/K7MDENG"
    # Moved onto another key's row, or opened with another master key: refused.
    with pytest.raises(SealError):
        key.open(sealed, "access_key/AKIA2/secret")
    with pytest.raises(SealError):
        Sealer.generate().open(sealed, "access_key/AKIA1/secret")
    with pytest.raises(SealError):
        key.open(sealed[:-4] + "AAAA", "access_key/AKIA1/secret")
    # Sealing twice gives two different texts (a fresh nonce each time).
    assert key.seal("x", "c") != key.seal("x", "c")


def test_the_master_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = sealing.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed = first.seal("secret", "ctx")
    os.chmod(path, 0o644)
    again = sealing.load_or_create(path)
    assert again.open(sealed, "ctx") == "secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.derive("code-url") == again.derive("code-url") != first.derive("other")


def test_tools_never_make_a_new_master_key(tmp_path: Path) -> None:
    with pytest.raises(SealError, match="no master key"):
        sealing.load_existing(tmp_path / "master.key")
    assert not (tmp_path / "master.key").exists()
    (tmp_path / "master.key").write_bytes(b"short")
    with pytest.raises(SealError, match="not a Lambent master key"):
        sealing.load_existing(tmp_path / "master.key")
