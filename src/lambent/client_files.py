"""Where clients find a server: DATA/endpoint, and `endpoint_url` in DATA/config.

The server writes both at every start (the port may differ from the last run), so
`lambent ls` with the same data dir, and the aws CLI with AWS_CONFIG_FILE=DATA/config,
reach it with no --endpoint-url and whatever port it was given.
"""

from __future__ import annotations

import configparser
import io
import os
from pathlib import Path

ENDPOINT_FILE = "endpoint"
CONFIG_FILE = "config"


def _write_private(path: Path, text: str) -> None:
    """Written whole (a reader never sees half a file), mode 600."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def publish_endpoint(data_dir: Path, endpoint: str) -> None:
    _write_private(data_dir / ENDPOINT_FILE, endpoint + "\n")
    config = data_dir / CONFIG_FILE
    if not config.exists():
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config, encoding="utf-8")
    except configparser.Error:
        return  # someone's hand-edited file: leave it as it is
    if not parser.has_section("default"):
        parser.add_section("default")
    parser.set("default", "endpoint_url", endpoint)
    out = io.StringIO()
    parser.write(out)
    _write_private(config, out.getvalue())


def read_endpoint(data_dir: Path) -> str | None:
    try:
        text = (data_dir / ENDPOINT_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None
