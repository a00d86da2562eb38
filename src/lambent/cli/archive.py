"""A function folder as a deployment zip, byte-for-byte reproducible.

The same folder must always give the same zip, so the same CodeSha256: then a deploy with
unchanged code is recognisable as such, and published versions dedupe. Entries are sorted,
timestamps fixed, and permissions reduced to 0755 (any execute bit set) or 0644: umask and
checkout differences vanish while a custom runtime's `bootstrap` stays executable, which
Lambda requires. `__pycache__` and `.git` are left out: they are machine-specific noise.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

from lambent.cli.errors import UsageError

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
SKIPPED_DIRS = frozenset({"__pycache__", ".git"})
UNIX = 3  # ZipInfo.create_system: the external attributes are Unix modes


def collect(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) pairs under root, sorted by archive name."""
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        base = Path(dirpath)
        for name in filenames:
            path = base / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    found.sort(key=lambda item: item[0])
    if not found:
        raise UsageError(f"{root} has no files to deploy")
    return found


def entry_mode(st_mode: int) -> int:
    executable = st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return stat.S_IFREG | (0o755 if executable else 0o644)


def build_zip(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, path in collect(root):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.create_system = UNIX
            info.external_attr = entry_mode(path.stat().st_mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
            zf.writestr(info, data)
    return buf.getvalue()
