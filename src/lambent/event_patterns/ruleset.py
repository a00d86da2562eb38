"""Many patterns against one event, without checking every pattern.

Most rules require exact strings somewhere (`"source": ["my.app"]`). A RuleSet indexes
each conjunction of each pattern by one such field: an event looks up its own value of each
indexed field and checks only the conjunctions found there in full; conjunctions with no
exact-string field are checked for every event. The answer is exactly what checking every
pattern would give (tests/unit/test_event_patterns_ruleset.py checks that with hypothesis).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Generic, TypeVar

from lambent.event_patterns.compile import CompiledPattern, Conjunction, conjunction_matches
from lambent.event_patterns.paths import Path, values_at

K = TypeVar("K", bound=Hashable)


def _index_field(conjunction: Conjunction) -> tuple[Path, frozenset[str]] | None:
    best: tuple[Path, frozenset[str]] | None = None
    for path, leaves in conjunction:
        strings = leaves.exact_strings
        if strings is not None and (best is None or len(strings) < len(best[1])):
            best = (path, strings)
    return best


class RuleSet(Generic[K]):
    def __init__(self, patterns: Mapping[K, CompiledPattern]) -> None:
        self._order = {key: i for i, key in enumerate(patterns)}
        self._index: dict[Path, dict[str, list[tuple[K, Conjunction]]]] = {}
        self._scan: list[tuple[K, Conjunction]] = []
        for key, pattern in patterns.items():
            for conjunction in pattern.conjunctions:
                field = _index_field(conjunction)
                if field is None:
                    self._scan.append((key, conjunction))
                    continue
                # Found through the index: that field already holds, check only the rest.
                rest = tuple(f for f in conjunction if f[0] != field[0])
                table = self._index.setdefault(field[0], {})
                for value in field[1]:
                    table.setdefault(value, []).append((key, rest))

    def __len__(self) -> int:
        return len(self._order)

    def matching(self, event: Mapping[str, Any]) -> list[K]:
        """The keys of the patterns the event matches, in the order they were given."""
        found: set[K] = set()
        seen: dict[Path, list[Any]] = {}
        verdicts: dict[int, bool] = {}
        for path, table in self._index.items():
            values = seen[path] = values_at(event, path)
            for value in values:
                if type(value) is not str:
                    continue
                for key, conjunction in table.get(value, ()):
                    if key not in found and conjunction_matches(conjunction, event, seen, verdicts):
                        found.add(key)
        for key, conjunction in self._scan:
            if key not in found and conjunction_matches(conjunction, event, seen, verdicts):
                found.add(key)
        return sorted(found, key=self._order.__getitem__)
