"""A PostgreSQL server of a test's own, so the test may stop and restart it.

The machine's PostgreSQL is shared by everything that runs here; a test that restarts
the database under load (issue 9 §3) starts its own cluster instead, with Debian's server
binaries, as the `postgres` user, in a temporary directory, on a free port. Stopped and
removed afterwards, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import free_port


def _bin_dir() -> Path | None:
    base = Path("/usr/lib/postgresql")
    versions = sorted(base.glob("*/bin/pg_ctl")) if base.exists() else []
    return versions[-1].parent if versions else None


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
             "-o", opts, "-l", str(self.data / "server.log"), "-w", "-t", "60", *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None or os.geteuid() != 0 or shutil.which("runuser") is None:
        if os.environ.get("LAMBENT_REQUIRE_SERVICES") == "1":
            raise RuntimeError("a private PostgreSQL needs root and Debian's server binaries")
        pytest.skip("no PostgreSQL server binaries, or not root")
    root = Path(tempfile.mkdtemp(prefix="lambent-pg-"))
    data = root / "data"
    data.mkdir()
    shutil.chown(root, "postgres")
    shutil.chown(data, "postgres")
    os.chmod(root, 0o700)
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(data),
         "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    server = PrivatePostgres(bin_dir, data, free_port())
    try:
        server.start()
        yield server
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(bin_dir / "pg_ctl"), "-D", str(data),
             "-m", "immediate", "stop"],
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
