"""Buses and rules (with their targets) as store documents, on SQLite and PostgreSQL alike.

The default bus of every account exists without a document until its policy is set (as on
AWS, where it is never created). A rule's targets live in the rule's document, so a rule,
its pattern and its targets change together in one write. Compiled rule sets are cached
per bus and rebuilt only when the bus's rules read back differently (another node's
write shows at the next dispatch: rules are read from the store for every batch).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambent.clock import Clock
from lambent.event_patterns import CompiledPattern, PatternError, RuleSet, compile_pattern
from lambent.events import errors, names
from lambent.store.interface import Doc, Store

BUS = "events_bus"
RULE = "events_rule"
MAX_TARGETS = 5  # per rule (AWS's quota)


@dataclass(frozen=True)
class Rule:
    account: str
    region: str
    bus: str
    name: str
    arn: str
    pattern: str | None
    schedule: str | None
    state: str
    description: str | None
    role_arn: str | None
    targets: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, doc: Doc) -> Rule:
        return cls(
            doc["account"],
            doc["region"],
            doc["bus"],
            doc["name"],
            doc["arn"],
            doc.get("pattern"),
            doc.get("schedule"),
            doc["state"],
            doc.get("description"),
            doc.get("role_arn"),
            tuple(doc.get("targets") or ()),
        )

    def doc(self) -> Doc:
        return {
            "account": self.account,
            "region": self.region,
            "bus": self.bus,
            "name": self.name,
            "arn": self.arn,
            "pattern": self.pattern,
            "schedule": self.schedule,
            "state": self.state,
            "description": self.description,
            "role_arn": self.role_arn,
            "targets": list(self.targets),
        }

    def target(self, target_id: str) -> dict[str, Any] | None:
        return next((t for t in self.targets if t["Id"] == target_id), None)


def rule_key(bus: str, rule: str) -> str:
    return f"{bus}|{rule}"


def check_pattern(text: str) -> CompiledPattern:
    """A pattern compiled, or AWS's InvalidEventPatternException with Event Ruler's reason."""
    try:
        return compile_pattern(text, dialect="eventbridge")
    except PatternError as exc:
        raise errors.bad_pattern(exc.reason) from exc


@dataclass
class _Compiled:
    signature: tuple[tuple[str, str], ...]
    rules: dict[str, Rule]
    ruleset: RuleSet[str]


@dataclass
class EventCatalog:
    store: Store
    clock: Clock
    _patterns: dict[str, CompiledPattern] = field(default_factory=dict)
    _sets: dict[tuple[str, str], _Compiled] = field(default_factory=dict)

    # -- buses -------------------------------------------------------------------------
    def default_bus(self, account: str, region: str) -> Doc:
        return {
            "name": names.DEFAULT_BUS,
            "arn": names.bus_arn(region, account, names.DEFAULT_BUS),
            "created": 0.0,
            "policy": None,
        }

    async def bus(self, account: str, name: str, region: str) -> Doc:
        doc = await self.store.get(BUS, account, name)
        if doc is not None:
            return doc
        if name == names.DEFAULT_BUS:
            return self.default_bus(account, region)
        raise errors.bus_not_found(name)

    async def create_bus(
        self, account: str, region: str, name: str, description: str | None
    ) -> Doc:
        if name == names.DEFAULT_BUS or "/" in name:
            raise errors.EventsValidation(f"Event bus name {name} is not valid.")
        now = self.clock.time()
        doc = {
            "name": name,
            "arn": names.bus_arn(region, account, name),
            "description": description,
            "created": now,
            "modified": now,
            "policy": None,
        }
        if not await self.store.insert(BUS, account, name, doc):
            raise errors.EventsAlreadyExists(f"Event bus {name} already exists.")
        return doc

    async def delete_bus(self, account: str, name: str) -> None:
        if name == names.DEFAULT_BUS:
            raise errors.EventsValidation("Cannot delete event bus default.")
        async with self.store.transaction():
            await self.store.delete(BUS, account, name)
            await self.store.delete_children(RULE, account, name)

    async def list_buses(self, account: str, region: str) -> list[Doc]:
        rows = await self.store.list(BUS, account)
        docs = [r.doc for r in rows]
        if not any(d["name"] == names.DEFAULT_BUS for d in docs):
            docs.insert(0, self.default_bus(account, region))
        return docs

    async def set_policy(
        self, account: str, region: str, name: str, policy: Mapping[str, Any] | None
    ) -> None:
        async with self.store.transaction():
            doc = dict(await self.bus(account, name, region))
            doc["policy"] = dict(policy) if policy else None
            doc["modified"] = self.clock.time()
            await self.store.put(BUS, account, name, doc)

    # -- rules -------------------------------------------------------------------------
    async def rule(self, account: str, bus: str, name: str) -> Rule:
        doc = await self.store.get(RULE, account, rule_key(bus, name))
        if doc is None:
            raise errors.rule_not_found(name, bus)
        return Rule.of(doc)

    async def find_rule(self, account: str, bus: str, name: str) -> Rule | None:
        doc = await self.store.get(RULE, account, rule_key(bus, name))
        return None if doc is None else Rule.of(doc)

    async def put_rule(self, rule: Rule) -> None:
        await self.store.put(
            RULE, rule.account, rule_key(rule.bus, rule.name), rule.doc(), rule.bus
        )

    async def delete_rule(self, account: str, bus: str, name: str) -> bool:
        return await self.store.delete(RULE, account, rule_key(bus, name))

    async def rules(self, account: str, bus: str) -> list[Rule]:
        return [Rule.of(r.doc) for r in await self.store.list(RULE, account, parent=bus)]

    def compiled(self, text: str) -> CompiledPattern:
        pattern = self._patterns.get(text)
        if pattern is None:
            pattern = self._patterns[text] = check_pattern(text)
        return pattern

    async def matching(self, account: str, bus: str, event: Mapping[str, Any]) -> list[Rule]:
        """The enabled pattern rules of the bus that the event matches (read fresh)."""
        rules = [r for r in await self.rules(account, bus) if r.pattern and r.state == "ENABLED"]
        signature = tuple((r.name, json.dumps(r.doc(), sort_keys=True)) for r in rules)
        cached = self._sets.get((account, bus))
        if cached is None or cached.signature != signature:
            ruleset = RuleSet({r.name: self.compiled(r.pattern or "") for r in rules})
            cached = _Compiled(signature, {r.name: r for r in rules}, ruleset)
            self._sets[(account, bus)] = cached
        return [cached.rules[name] for name in cached.ruleset.matching(event)]
