"""A stored mapping document read as what its poller needs: target, filter, scaling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambent.event_patterns import compile_pattern, esm_matches, esm_view
from lambent.event_sources.pollers.invoking import Target
from lambent.event_sources.pollers.mapping import PollerSpec
from lambent.event_sources.pollers.source import Source
from lambent.store.interface import Doc


def fingerprint(doc: Doc) -> tuple[Any, ...]:
    """What, when it changes, restarts the poller with the new settings."""
    return (doc.get("LastModified"), doc.get("FunctionArn"))


def keeper(doc: Doc, source: Source) -> Callable[[dict[str, Any]], bool]:
    """The mapping's FilterCriteria as a predicate over a record (no filter: keep all).
    The patterns were validated when the mapping was written."""
    filters = (doc.get("FilterCriteria") or {}).get("Filters") or []
    patterns = [compile_pattern(f["Pattern"], dialect="esm") for f in filters if f.get("Pattern")]
    if not patterns:
        return lambda item: True
    key, b64 = source.filter_key
    # A source whose filterable fields are nested (Kinesis: `kinesis.data`) says how to
    # lift them to the top, where patterns name them.
    view: Callable[[dict[str, Any]], dict[str, Any]] = getattr(
        source, "filter_view", lambda item: item
    )
    return lambda item: esm_matches(esm_view(view(item), key, base64_data=b64), patterns)


def poller_spec(account: str, doc: Doc, source: Source) -> PollerSpec:
    scaling = doc.get("ScalingConfig") or {}
    maximum = int(scaling.get("MaximumConcurrency") or source.max_concurrency)
    target = Target(
        account=account,
        function=str(doc["FunctionArn"]),
        report_failures="ReportBatchItemFailures" in (doc.get("FunctionResponseTypes") or []),
    )
    return PollerSpec(target=target, keep=keeper(doc, source), maximum=maximum)
