"""Counters per mapping, shown in `/_lambent/stats` and by `lambent mappings`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class MappingMetrics:
    batches: int = 0
    records: int = 0
    filtered_out: int = 0
    failures: int = 0  # batches (or records of partial failures) returned for a retry
    failed_records: int = 0
    throttles: int = 0
    lanes: int = 0  # batches that may be in flight now (the scaler's target)
    in_flight: int = 0  # invokes running now
    peak_in_flight: int = 0
    backlog: int = 0
    oldest_age_s: float = 0.0

    def view(self) -> dict[str, Any]:
        return asdict(self)
