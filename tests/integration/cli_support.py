"""Running the real `lambent` CLI as a subprocess against a real server.

Each run gets a clean environment (no AWS_* or LAMBENT_* variables, HOME and cwd in a
temp dir) so the only credentials the CLI can find are the ones a test hands it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import ServerProcess


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBENT_"))}
    env["HOME"] = str(home)
    env.update(extra or {})
    return env


def cli_args(server: ServerProcess | None, args: tuple[str, ...]) -> list[str]:
    cmd = [sys.executable, "-m", "lambent", *args]
    if server is not None:
        cmd += ["--endpoint-url", server.endpoint, "--data-dir", str(server.data_dir)]
    return cmd


def run_cli(
    server: ServerProcess | None,
    *args: str,
    home: Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run `lambent ARGS` (plus the server's endpoint and data dir) to completion."""
    proc = subprocess.run(
        cli_args(server, args),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=clean_env(home, env),
        cwd=str(home),
        timeout=timeout,
        check=False,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


class LineReader:
    """A long-running CLI process whose stdout lines can be awaited with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, needle: str, timeout: float) -> str:
        """The first line (from now on) containing needle; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line with {needle!r} within {timeout} s: {self.lines}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"process ended before {needle!r}: {self.lines}")
            self.lines.append(line)
            if needle in line:
                return line


def start_cli(
    server: ServerProcess, *args: str, home: Path, env: dict[str, str] | None = None
) -> LineReader:
    proc = subprocess.Popen(
        cli_args(server, args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(home, env),
        cwd=str(home),
    )
    return LineReader(proc)
