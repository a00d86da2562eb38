"""`lambent mappings`: the account's event source mappings as a table, with their pollers'
counters.

The mappings come from ListEventSourceMappings (every page), so the table shows what the
API says; the counters (batches, records, filtered out, failures, backlog) come from the
server's `/_lambent/stats`, served to loopback clients only: from elsewhere, or for a
mapping no poller of that server runs (disabled, or polled by another node), they show
"-"."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from lambent.cli.client import AwsClient
from lambent.cli.listing import table_of

COLUMNS = (
    "UUID",
    "FUNCTION",
    "SOURCE",
    "STATE",
    "BATCH",
    "BATCHES",
    "RECORDS",
    "FILTERED",
    "FAILURES",
    "BACKLOG",
)
PATH = "/2015-03-31/event-source-mappings/"


def mappings(client: AwsClient) -> Iterator[dict[str, Any]]:
    marker: str | None = None
    while True:
        page = client.lambda_json("GET", PATH, query={"Marker": marker, "MaxItems": 100})
        yield from page.get("EventSourceMappings", [])
        marker = page.get("NextMarker")
        if not marker:
            return


def pollers(endpoint: str) -> dict[str, dict[str, Any]]:
    """The server's counters per mapping; empty when it does not show them to us."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_lambent/stats", timeout=5) as resp:
            return dict(json.loads(resp.read()).get("mappings", {}))
    except (OSError, ValueError):
        return {}


def row(mapping: Mapping[str, Any], counters: Mapping[str, Any] | None) -> tuple[str, ...]:
    def count(key: str) -> str:
        return "-" if counters is None else str(counters.get(key, 0))

    return (
        str(mapping["UUID"]),
        str(mapping.get("FunctionArn", "")).split(":function:", 1)[-1],
        str(mapping.get("EventSourceArn", "-")).rsplit(":", 1)[-1],
        str(mapping.get("State", "")),
        str(mapping.get("BatchSize", "-")),
        count("batches"),
        count("records"),
        count("filtered_out"),
        count("failures"),
        count("backlog"),
    )


def list_command(client: AwsClient, stdout: TextIO, stderr: TextIO) -> int:
    found = list(mappings(client))
    if not found:
        stderr.write(f"no event source mappings in {client.config.region}\n")
        return 0
    counters = pollers(client.config.endpoint)
    rows = [row(m, counters.get(str(m["UUID"]))) for m in found]
    stdout.write("\n".join(table_of(COLUMNS, rows)) + "\n")
    stdout.flush()
    return 0
