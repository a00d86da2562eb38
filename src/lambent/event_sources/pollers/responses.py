"""What a function's answer means for its batch, as AWS documents for SQS and streams.

Without ReportBatchItemFailures a function that returns succeeded for every record, and a
function error fails them all. With it ("Reporting batch item failures", Lambda developer
guide), the batch is a complete success for an empty or null `batchItemFailures` list and
for an empty or null response; it is a complete failure for a response that is not JSON,
and for an itemIdentifier that is empty, null, missing (a wrong key name), or not the id
of a record in the batch. Otherwise only the listed records fail.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from lambent.event_sources.pollers.source import Failure, Settlement, Success


def settlement(payload: bytes, ids: Collection[str], report_failures: bool) -> Settlement:
    """The outcome of a batch whose function returned `payload` (it did not fail)."""
    if not report_failures:
        return Success()
    text = payload.strip()
    if not text:
        return Success()
    try:
        body: Any = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Failure()
    if not isinstance(body, dict):
        return Success() if body is None else Failure()
    failures = body.get("batchItemFailures")
    if failures is None:
        return Success()
    if not isinstance(failures, list):
        return Failure()
    failed: set[str] = set()
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident or ident not in ids:
            return Failure()
        failed.add(ident)
    return Failure(frozenset(failed)) if failed else Success()
