"""`lambent ls`: the account's functions as a table, every page of ListFunctions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from lambent.cli import functions
from lambent.cli.client import AwsClient

COLUMNS = ("NAME", "RUNTIME", "MEMORY", "TIMEOUT", "LAST MODIFIED")


def row(config: Mapping[str, Any]) -> tuple[str, ...]:
    return (
        str(config.get("FunctionName", "")),
        str(config.get("Runtime") or "-"),
        f"{config.get('MemorySize', '-')} MB",
        f"{config.get('Timeout', '-')} s",
        short_time(str(config.get("LastModified") or "-")),
    )


def short_time(stamp: str) -> str:
    """Lambda's `2024-05-01T12:00:00.000+0000` as `2024-05-01 12:00:00` (UTC)."""
    if len(stamp) >= 19 and stamp[10] == "T":
        return stamp[:10] + " " + stamp[11:19]
    return stamp


def table(rows: Iterable[tuple[str, ...]]) -> list[str]:
    return table_of(COLUMNS, rows)


def table_of(columns: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns two spaces apart, the header first."""
    body = [columns, *rows]
    widths = [max(len(r[i]) for r in body) for i in range(len(columns))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in body
    ]


def list_command(
    client: AwsClient, *, page_size: int | None, stdout: TextIO, stderr: TextIO
) -> int:
    rows = [row(c) for c in functions.list_functions(client, page_size)]
    if not rows:
        stderr.write(f"no functions in {client.config.region}\n")
        return 0
    rows.sort(key=lambda r: r[0])
    stdout.write("\n".join(table(rows)) + "\n")
    stdout.flush()
    return 0
