"""Admission and the scaling limit: pure logic, virtual time."""

from __future__ import annotations

import pytest

from lambent.clock import ManualClock
from lambent.concurrency.admission import Admission, Lease
from lambent.concurrency.burst import BurstLimiter, ClusterBurst
from lambent.concurrency.ledger import MemoryLedger
from lambent.concurrency.throttle import Throttle, ThrottleReason
from lambent.errors import ThrottledError, TooManyRequests


def admission(limit: int, reserved: dict[str, int]) -> Admission:
    return Admission(
        limit,
        lambda account, fn: reserved.get(fn),
        lambda account: sum(reserved.values()),
    )


def test_account_quota_throttles_past_the_limit_and_recovers() -> None:
    adm = admission(3, {})
    leases = [adm.take("a", "f") for _ in range(3)]
    with pytest.raises(TooManyRequests) as err:
        adm.take("a", "g")
    assert err.value.reason == "ConcurrentInvocationLimitExceeded"
    assert isinstance(err.value, ThrottledError)
    adm.give(leases.pop())
    adm.take("a", "g")
    assert adm.in_use("a") == 3


def test_accounts_do_not_share_quota() -> None:
    adm = admission(1, {})
    adm.take("a", "f")
    adm.take("b", "f")
    with pytest.raises(TooManyRequests):
        adm.take("a", "f")


def test_reserved_function_has_its_own_ceiling_and_reason() -> None:
    adm = admission(10, {"r": 1})
    adm.take("a", "r")
    with pytest.raises(TooManyRequests) as err:
        adm.take("a", "r")
    assert err.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reserved_zero_throttles_every_invoke() -> None:
    adm = admission(10, {"off": 0})
    with pytest.raises(TooManyRequests) as err:
        adm.take("a", "off")
    assert err.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_reservations_are_carved_out_of_the_unreserved_pool() -> None:
    adm = admission(5, {"r": 3})
    adm.take("a", "u")
    adm.take("a", "u")
    with pytest.raises(TooManyRequests) as err:
        adm.take("a", "u")  # 5 - 3 reserved = 2 unreserved
    assert err.value.reason == "ConcurrentInvocationLimitExceeded"
    for _ in range(3):
        adm.take("a", "r")  # the reservation is still all there
    assert adm.in_use("a") == 5


def test_give_returns_everything() -> None:
    adm = admission(4, {"r": 2})
    leases = [adm.take("a", "r"), adm.take("a", "u"), adm.take("a", "u")]
    for lease in leases:
        adm.give(lease)
    assert adm.in_use() == 0
    assert adm.function_in_use("a", "r") == 0


def test_burst_bucket_refills_with_time() -> None:
    clock = ManualClock()
    burst = BurstLimiter(clock, capacity=10, window_s=10.0)
    for _ in range(10):
        burst.take("a", "f")
    with pytest.raises(TooManyRequests) as err:
        burst.take("a", "f")
    assert err.value.reason == "FunctionInvocationRateLimitExceeded"
    clock.advance(0.5)  # 1 token per second
    with pytest.raises(TooManyRequests):
        burst.take("a", "f")
    clock.advance(0.5)
    burst.take("a", "f")
    burst.take("a", "other")  # per function


def test_free_says_how_many_more_leases_a_function_could_take() -> None:
    adm = admission(6, {"r": 2})
    assert (adm.free("a", "r"), adm.free("a", "u")) == (2, 4)
    adm.take("a", "r")
    leases = [adm.take("a", "u") for _ in range(3)]
    assert (adm.free("a", "r"), adm.free("a", "u")) == (1, 1)
    adm.give(leases[0])
    assert adm.free("a", "u") == 2
    assert adm.free("b", "u") == 4  # another account's pool is its own


def test_try_take_answers_a_throttle_value_with_its_reason() -> None:
    adm = admission(10, {"r": 1, "off": 0})
    assert isinstance(adm.try_take("a", "r"), Lease)
    assert adm.try_take("a", "r") == Throttle(ThrottleReason.RESERVED_CONCURRENCY, reserved=1)
    assert adm.try_take("a", "off") == Throttle(ThrottleReason.RESERVED_CONCURRENCY, reserved=0)
    small = admission(1, {})
    small.take("a", "u")
    assert small.try_take("a", "u") == Throttle(ThrottleReason.ACCOUNT_CONCURRENCY)
    assert small.in_use("a") == 1  # a throttle takes nothing


def test_listeners_hear_every_lease_given_back_once() -> None:
    adm = admission(10, {})
    heard: list[Lease] = []
    adm.on_release(heard.append)
    lease = adm.take("a", "f")
    adm.give(lease)
    adm.give(lease)  # a second give (a safety net on another exit path) changes nothing
    assert heard == [lease]
    assert adm.in_use() == 0
    assert adm.free("a", "f") == 10


def test_a_throttle_raised_and_read_back_keeps_its_reason() -> None:
    err = Throttle(ThrottleReason.ACCOUNT_CONCURRENCY).error()
    assert isinstance(err, TooManyRequests)
    assert err.reason == "ConcurrentInvocationLimitExceeded"
    assert Throttle.from_error(err).reason is ThrottleReason.ACCOUNT_CONCURRENCY


def test_provisioned_concurrency_is_committed_out_of_the_reservation() -> None:
    """Reserved 3 with 2 provisioned on alias `live`: $LATEST (or any qualifier without
    provisioned concurrency) runs on the 1 left; `live` may use all 3."""
    adm = Admission(10, lambda a, fn: {"f": 3}.get(fn), lambda a: 3, lambda a, fn: {"live": 2})
    latest = adm.take("a", "f", ("$LATEST",))
    with pytest.raises(TooManyRequests) as err:
        adm.take("a", "f", ("$LATEST",))
    assert err.value.reason == "ReservedFunctionConcurrentInvocationLimitExceeded"
    live = [adm.take("a", "f", ("live", "1")) for _ in range(2)]
    with pytest.raises(TooManyRequests):
        adm.take("a", "f", ("live", "1"))
    adm.give(latest)
    adm.give(live[0])
    adm.take("a", "f", ("2",))
    assert adm.function_in_use("a", "f") == 2


def test_reserved_equal_to_provisioned_throttles_other_qualifiers_at_once() -> None:
    adm = Admission(10, lambda a, fn: 2, lambda a: 2, lambda a, fn: {"1": 2})
    assert isinstance(adm.try_take("a", "f", ("$LATEST",)), Throttle)
    assert isinstance(adm.take("a", "f", ("1",)), Lease)
    # Without qualifiers (not checked against provisioned concurrency) the reservation rules.
    assert isinstance(adm.try_take("a", "f"), Lease)


async def test_the_cluster_bucket_throttles_with_aws_reasons() -> None:
    clock = ManualClock()
    burst = ClusterBurst(MemoryLedger(clock), capacity=2, window_s=10.0)
    await burst.take("a", "f")
    await burst.take("a", "f", reserved=True)
    with pytest.raises(TooManyRequests) as err:
        await burst.take("a", "f")
    assert err.value.reason == "FunctionInvocationRateLimitExceeded"
    with pytest.raises(TooManyRequests) as err:
        await burst.take("a", "f", reserved=True)
    assert err.value.reason == "ReservedFunctionInvocationRateLimitExceeded"
    clock.advance(5.0)  # 2 per 10 s: one more
    await burst.take("a", "f")
