"""The deployment zip: reproducible, sorted, execute bits kept, noise left out."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from lambent.cli.archive import FIXED_TIME, build_zip, entry_mode
from lambent.cli.errors import UsageError


def tree(root: Path, mode_exec: int = 0o755, mode_plain: int = 0o600) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__").mkdir()
    (root / ".git").mkdir()
    (root / "bootstrap").write_text("#!/bin/sh\n")
    (root / "bootstrap").chmod(mode_exec)
    (root / "z.py").write_text("z = 1\n")
    (root / "z.py").chmod(mode_plain)
    (root / "pkg" / "a.py").write_text("a = 1\n")
    (root / "pkg" / "sub" / "b.txt").write_bytes(b"\x00\x01")
    (root / "__pycache__" / "z.cpython-311.pyc").write_bytes(b"junk")
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    (root / ".git" / "HEAD").write_text("ref\n")
    return root


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.infolist()


def test_sorted_entries_without_caches_or_git(tmp_path: Path) -> None:
    names = [i.filename for i in entries(build_zip(tree(tmp_path)))]
    assert names == ["bootstrap", "pkg/a.py", "pkg/sub/b.txt", "z.py"]


def test_modes_fixed_times_and_unix_attributes(tmp_path: Path) -> None:
    infos = {i.filename: i for i in entries(build_zip(tree(tmp_path)))}
    assert stat.S_IMODE(infos["bootstrap"].external_attr >> 16) == 0o755
    assert stat.S_IMODE(infos["z.py"].external_attr >> 16) == 0o644
    assert all(stat.S_ISREG(i.external_attr >> 16) for i in infos.values())
    assert all(i.date_time == FIXED_TIME and i.create_system == 3 for i in infos.values())
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos.values())


def test_same_content_same_bytes_whatever_the_mtimes_and_umask(tmp_path: Path) -> None:
    one = tree(tmp_path / "one", mode_exec=0o700, mode_plain=0o600)
    two = tree(tmp_path / "two", mode_exec=0o775, mode_plain=0o664)
    for path in two.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    assert build_zip(one) == build_zip(two)
    (two / "z.py").write_text("z = 2\n")
    assert build_zip(one) != build_zip(two)


def test_content_round_trips(tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(build_zip(tree(tmp_path)))) as zf:
        assert zf.read("pkg/sub/b.txt") == b"\x00\x01"
        assert zf.read("bootstrap") == b"#!/bin/sh\n"


def test_entry_mode() -> None:
    assert entry_mode(stat.S_IFREG | 0o100) == stat.S_IFREG | 0o755
    assert entry_mode(stat.S_IFREG | 0o001) == stat.S_IFREG | 0o755
    assert entry_mode(stat.S_IFREG | 0o666) == stat.S_IFREG | 0o644


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a directory"):
        build_zip(tmp_path / "missing")
    (tmp_path / "empty" / "__pycache__").mkdir(parents=True)
    with pytest.raises(UsageError, match="has no files"):
        build_zip(tmp_path / "empty")
