"""Where schedules and schedule groups live: one async interface, SQLite and PostgreSQL.

Records are JSON documents (the API's view); beside each schedule the backend keeps what
firing needs: `fire_at` (when it is next due, with any flexible-window spread), `due`
(the nominal due time that fire is for) and `attempts` (delivery attempts of that due time),
and a lease (`lease_until`) so that in a cluster one node fires a due time. A claim takes
rows due now whose lease has lapsed; `settle` moves a claimed row on only if nobody changed
it meanwhile (an update or a delete wins over a fire in flight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]


@dataclass(frozen=True)
class Due:
    """A claimed schedule: its record and the due time being fired."""

    account: str
    group: str
    name: str
    doc: Doc
    due: float
    attempts: int
    version: int


@dataclass(frozen=True)
class Timing:
    """Where a schedule stands: its next fire (None: nothing more to fire)."""

    fire_at: float | None
    due: float | None
    attempts: int = 0


class ScheduleBackend(Protocol):
    async def create_group(self, account: str, name: str, doc: Doc) -> bool:
        """False if the group exists."""

    async def get_group(self, account: str, name: str) -> Doc | None: ...

    async def put_group(self, account: str, name: str, doc: Doc) -> bool:
        """Replace a group's document (tags); False if it is gone."""

    async def list_groups(self, account: str) -> list[Doc]: ...

    async def delete_group(self, account: str, name: str) -> bool:
        """Deletes the group's schedules with it; False if it did not exist."""

    async def create_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        """False if a schedule of that name is in the group."""

    async def update_schedule(
        self, account: str, group: str, name: str, doc: Doc, timing: Timing
    ) -> bool:
        """Replace it and its timing (a fire in flight for it settles to nothing)."""

    async def get_schedule(self, account: str, group: str, name: str) -> Doc | None: ...

    async def list_schedules(self, account: str, group: str | None) -> list[Doc]: ...

    async def delete_schedule(self, account: str, group: str, name: str) -> bool: ...

    async def claim_due(self, now: float, limit: int, lease_s: float) -> list[Due]:
        """Enabled schedules whose fire_at has come, not leased by anyone; leased now."""

    async def settle(self, claimed: Due, timing: Timing, delete: bool) -> bool:
        """After a fire: move on to `timing` (or delete the schedule), if it is unchanged
        since the claim; False if an update or delete came first."""

    async def settle_many(self, outcomes: list[tuple[Due, Timing, bool]]) -> int:
        """`settle` for a round's fires in one transaction and one batch of statements (a
        tick of 10,000 schedules); how many rows moved on (stale claims do not)."""

    async def next_fire_at(self) -> float | None:
        """The earliest fire_at of any enabled schedule (how long the firer may sleep)."""

    async def close(self) -> None: ...
