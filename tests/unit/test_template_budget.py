"""Which templates go: checked against rules written here independently of the policy."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from lambent.environments.template_budget import TemplateBudget, Victim

MB = 1024 * 1024


def test_least_recently_used_go_first_until_within_budget() -> None:
    budget = TemplateBudget(budget_bytes=10 * MB, keep_alive_s=300)
    for n, key in enumerate("abcd"):
        budget.add(key, now=float(n), cost=4 * MB)
    budget.touch("a", now=10.0)  # a is now the most recently used: b and c are the oldest
    assert budget.victims(now=11.0) == [Victim("b", "budget"), Victim("c", "budget")]


def test_the_most_recently_used_is_kept_whatever_the_budget() -> None:
    budget = TemplateBudget(budget_bytes=0, keep_alive_s=300)
    budget.add("old", now=0.0, cost=4 * MB)
    budget.add("new", now=1.0, cost=4 * MB)
    assert budget.victims(now=2.0) == [Victim("old", "budget")]
    budget.remove("old")
    assert budget.victims(now=2.0) == []


def test_idle_past_the_keep_alive_go_even_within_budget() -> None:
    budget = TemplateBudget(budget_bytes=100 * MB, keep_alive_s=300)
    budget.add("a", now=0.0, cost=MB)
    budget.add("b", now=100.0, cost=MB)
    assert budget.victims(now=300.0) == []
    assert budget.victims(now=300.5) == [Victim("a", "idle")]
    assert budget.victims(now=401.0) == [Victim("a", "idle"), Victim("b", "idle")]
    budget.touch("a", now=401.0)
    assert budget.victims(now=402.0) == [Victim("b", "idle")]


def test_pinned_and_busy_templates_are_never_let_go() -> None:
    budget = TemplateBudget(budget_bytes=0, keep_alive_s=10)
    budget.add("snapshot", now=0.0, cost=50 * MB, pinned=True)
    budget.add("forking", now=1.0, cost=4 * MB)
    budget.add("newest", now=2.0, cost=4 * MB)
    budget.acquire("forking")
    assert budget.victims(now=100.0) == [Victim("newest", "idle")]
    budget.release("forking")
    assert Victim("forking", "idle") in budget.victims(now=100.0)
    assert budget.total() == 58 * MB


@dataclass
class Model:
    """The rules, as a user would state them, on plain lists."""

    budget: int
    keep_alive: float
    items: dict[str, dict[str, float]] = field(default_factory=dict)
    order: int = 0

    def use(self, key: str, now: float) -> None:
        self.order += 1
        self.items[key]["used"] = now
        self.items[key]["seq"] = self.order

    def expected(self, now: float) -> set[str]:
        def free(key: str) -> bool:
            item = self.items[key]
            return not item["pinned"] and not item["busy"]

        idle = {k for k in self.items if free(k) and now - self.items[k]["used"] > self.keep_alive}
        left = [k for k in self.items if k not in idle]
        newest = max(self.items, key=lambda k: self.items[k]["seq"], default=None)
        total = sum(self.items[k]["cost"] for k in left)
        evicted: set[str] = set()
        for key in sorted(left, key=lambda k: self.items[k]["seq"]):  # oldest use first
            if total <= self.budget:
                break
            if free(key) and key != newest:
                evicted.add(key)
                total -= self.items[key]["cost"]
        return idle | evicted


def test_random_histories_match_the_rules() -> None:
    rng = random.Random(8)
    for _ in range(300):
        model = Model(budget=rng.choice([0, 8, 20, 60]) * MB, keep_alive=rng.choice([5.0, 50.0]))
        budget = TemplateBudget(model.budget, model.keep_alive)
        now = 0.0
        for step in range(rng.randint(1, 30)):
            now += rng.choice([0.0, 1.0, 3.0, 20.0])
            op = rng.random()
            keys = list(model.items)
            if op < 0.4 or not keys:
                key = f"t{step}"
                cost = rng.choice([2, 4, 5, 30]) * MB
                pinned = rng.random() < 0.1
                budget.add(key, now, cost, pinned=pinned)
                model.items[key] = {"cost": cost, "pinned": pinned, "busy": 0}
                model.use(key, now)
            elif op < 0.7:
                key = rng.choice(keys)
                budget.touch(key, now)
                model.use(key, now)
            elif op < 0.85:
                key = rng.choice(keys)
                if model.items[key]["busy"]:
                    budget.release(key)
                    model.items[key]["busy"] = 0
                else:
                    budget.acquire(key)
                    model.items[key]["busy"] = 1
            else:
                victims = budget.victims(now)
                assert {v.key for v in victims} == model.expected(now)
                for victim in victims:
                    budget.remove(victim.key)
                    del model.items[victim.key]
        assert {v.key for v in budget.victims(now)} == model.expected(now)
