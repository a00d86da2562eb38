"""`lambent invoke NAME [PAYLOAD]`: one synchronous invocation, the answer on stdout.

The payload is checked as JSON here, before the request, so a typo in a shell quote is a
usage error pointing at the argument rather than a server error about a request body.
A function error (`X-Amz-Function-Error`) goes to stderr with a non-zero exit, so scripts
can tell a handler that raised from one that returned.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import BinaryIO

from lambent.cli import functions
from lambent.cli.client import AwsClient
from lambent.cli.errors import UsageError

FUNCTION_ERROR_EXIT = 1


def read_payload(arg: str | None, stdin: BinaryIO) -> bytes:
    """PAYLOAD as bytes: JSON text, `@file`, or `-` for stdin.

    Omitted, it is `{}`: what Lambda hands a handler invoked without a payload."""
    if arg is None:
        return b"{}"
    if arg == "-":
        data = stdin.read()
        source = "stdin"
    elif arg.startswith("@"):
        path = Path(arg[1:])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read payload file {path}: {exc.strerror or exc}") from exc
        source = str(path)
    else:
        data = arg.encode()
        source = "PAYLOAD"
    if data.strip():
        try:
            json.loads(data)
        except ValueError as exc:
            raise UsageError(f"{source} is not valid JSON: {exc}") from exc
    return data


def invoke(
    client: AwsClient,
    name: str,
    payload: bytes,
    *,
    qualifier: str | None,
    show_log: bool,
    stdout: BinaryIO,
    stderr: BinaryIO,
) -> int:
    result = functions.invoke(client, name, payload, qualifier=qualifier, tail=show_log)
    if show_log and result.log_tail is not None:
        stderr.write(_line(result.log_tail.replace("\r", "\n").encode()))
        stderr.flush()
    if result.function_error:
        stderr.write(_line(result.payload))
        stderr.flush()
        return FUNCTION_ERROR_EXIT
    stdout.write(_line(result.payload))
    stdout.flush()
    return 0


def _line(data: bytes) -> bytes:
    return data if not data or data.endswith(b"\n") else data + b"\n"
