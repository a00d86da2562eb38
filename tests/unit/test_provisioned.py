"""Provisioned concurrency: the Status table against AWS's rules, and the reconciler that
drives it, with a fake manager (pure logic: which status is shown when)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from lambent.clock import ManualClock
from lambent.environments.provisioned import ProvisionedReconciler
from lambent.functions import provisioned_states as pc
from lambent.functions.model import FunctionVersion
from lambent.functions.provisioned_states import ProvisionedEvent, ProvisionedStatus

P, V = ProvisionedStatus, ProvisionedEvent


def expected(status: ProvisionedStatus, event: ProvisionedEvent) -> ProvisionedStatus | None:
    """AWS's ProvisionedConcurrencyStatus, as the Lambda guide describes it."""
    if event is V.CONFIGURED:
        return P.IN_PROGRESS  # a new or changed config allocates again
    if event is V.ALLOCATING:
        return P.IN_PROGRESS  # fewer than requested are ready (again)
    if event is V.ALLOCATED:
        # READY once all are ready; a FAILED config stays failed until it changes.
        return None if status is P.FAILED else P.READY
    if event is V.INIT_FAILED:
        # Only an allocation in progress can fail.
        return P.FAILED if status is P.IN_PROGRESS else None
    raise AssertionError(event)


@pytest.mark.parametrize(("status", "event"), list(itertools.product(P, V)))
def test_every_pair_follows_the_rules(status: ProvisionedStatus, event: ProvisionedEvent) -> None:
    want = expected(status, event)
    if want is None:
        with pytest.raises(pc.InvalidProvisionedTransition):
            pc.transition(status, event)
    else:
        assert pc.transition(status, event) is want


def test_a_put_config_starts_in_progress_and_can_reach_every_status() -> None:
    assert pc.LIFECYCLE.initial is P.IN_PROGRESS
    assert pc.LIFECYCLE.reachable(P.IN_PROGRESS) == set(P)


VERSION = FunctionVersion(
    account_id="123456789012",
    region="us-east-1",
    function_name="fn",
    version="1",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
    revision_id="r1",
    runtime="python3.11",
    handler="app.handler",
    role="arn:aws:iam::123456789012:role/r",
    memory_mb=128,
    timeout_s=3,
    ephemeral_mb=512,
    environment={},
    layers=(),
    code_sha256_hex="0" * 64,
    code_size=1,
    state="Active",
    last_update_status="Successful",
    snapstart=False,
)


class Catalog:
    """The stored config documents, written the way the control plane writes them."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, int]] = []

    def put(self, requested: int, modified: str) -> None:
        """PutProvisionedConcurrencyConfig: a fresh IN_PROGRESS document."""
        self.docs["1"] = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": 0,
            "AllocatedProvisionedConcurrentExecutions": 0,
            "Status": "IN_PROGRESS",
            "LastModified": modified,
            "_account": VERSION.account_id,
            "_function": VERSION.function_name,
            "_qualifier": "1",
            "_version": "1",
        }

    async def version(self, account_id: str, function_name: str, version: str) -> FunctionVersion:
        return VERSION

    async def provisioned_configs(self) -> list[dict[str, Any]]:
        return [dict(doc) for doc in self.docs.values()]

    async def set_provisioned_status(
        self,
        account: str,
        name: str,
        qualifier: str,
        status: str,
        reason: str | None = None,
        *,
        available: int | None = None,
        allocated: int | None = None,
    ) -> None:
        doc = self.docs[qualifier]
        doc["Status"] = status
        doc.pop("StatusReason", None)
        if reason:
            doc["StatusReason"] = reason
        doc["AvailableProvisionedConcurrentExecutions"] = available
        self.writes.append((status, int(available or 0)))

    @property
    def shown(self) -> tuple[str, int]:
        doc = self.docs["1"]
        return doc["Status"], doc["AvailableProvisionedConcurrentExecutions"]


class Manager:
    """Provisioned environments by count; `fail` makes the next inits fail."""

    def __init__(self) -> None:
        self.count = 0
        self.fail = False
        self.inits = 0

    def provisioned_count(self, version: FunctionVersion) -> int:
        return self.count

    async def provision(self, version: FunctionVersion) -> bool:
        self.inits += 1
        if self.fail:
            return False
        self.count += 1
        return True

    def set_provisioned_targets(self, wanted: dict[tuple[str, str, str], int]) -> None:
        return None


def reconciler() -> tuple[ProvisionedReconciler, Catalog, Manager]:
    catalog, manager = Catalog(), Manager()
    return ProvisionedReconciler(manager, catalog, ManualClock()), catalog, manager


def test_goes_ready_once_every_environment_is_initialized() -> None:
    rec, catalog, manager = reconciler()
    catalog.put(2, "t1")
    asyncio.run(rec.reconcile())
    assert catalog.shown == ("READY", 2)
    assert manager.inits == 2
    written = len(catalog.writes)
    asyncio.run(rec.reconcile())
    assert len(catalog.writes) == written  # nothing new to say: nothing written


def test_putting_the_same_config_again_goes_ready_again() -> None:
    """A repeated PutProvisionedConcurrencyConfig shows IN_PROGRESS; the environments are
    already there, so the next pass must show READY (it used to stay IN_PROGRESS)."""
    rec, catalog, manager = reconciler()
    catalog.put(1, "t1")
    asyncio.run(rec.reconcile())
    assert catalog.shown == ("READY", 1)
    catalog.put(1, "t2")
    asyncio.run(rec.reconcile())
    assert catalog.shown == ("READY", 1)
    assert manager.inits == 1


def test_a_failed_init_fails_the_config_until_it_changes() -> None:
    rec, catalog, manager = reconciler()
    manager.fail = True
    catalog.put(1, "t1")
    asyncio.run(rec.reconcile())
    assert catalog.shown == ("FAILED", 0)
    assert catalog.docs["1"]["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    asyncio.run(rec.reconcile())
    assert manager.inits == 1  # not retried
    manager.fail = False
    catalog.put(1, "t2")
    asyncio.run(rec.reconcile())
    assert catalog.shown == ("READY", 1)
    assert "StatusReason" not in catalog.docs["1"]


def test_a_lost_environment_shows_in_progress_until_it_is_replaced() -> None:
    rec, catalog, manager = reconciler()
    catalog.put(2, "t1")
    asyncio.run(rec.reconcile())
    manager.count = 1  # one environment gone (e.g. the server restarted with fewer)
    asyncio.run(rec.reconcile())
    assert catalog.writes[-2:] == [("IN_PROGRESS", 1), ("READY", 2)]
