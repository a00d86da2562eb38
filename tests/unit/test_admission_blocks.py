"""The block policy: how many tokens a node asks the ledger for and gives back."""

from __future__ import annotations

from lambent.concurrency.blocks import BlockPolicy

POLICY = BlockPolicy(max_slack=64, share=8, growth=2)


def test_nothing_is_asked_while_idle_tokens_cover_the_waiters() -> None:
    assert POLICY.ask(capacity=100, held=10, used=5, waiting=5) == 0
    assert POLICY.ask(capacity=100, held=10, used=5, waiting=0) == 0


def test_a_quiet_node_asks_for_what_it_needs() -> None:
    assert POLICY.ask(capacity=1000, held=0, used=0, waiting=1) == 1
    assert POLICY.ask(capacity=1000, held=1, used=1, waiting=1) == 1


def test_the_block_grows_with_the_node_own_concurrency() -> None:
    assert POLICY.ask(capacity=1000, held=16, used=16, waiting=1) == 1 + 8
    assert POLICY.ask(capacity=1000, held=64, used=64, waiting=1) == 1 + 32


def test_slack_is_capped_by_max_and_by_a_share_of_the_pool() -> None:
    assert POLICY.ask(capacity=10_000, held=500, used=500, waiting=1) == 1 + 64
    assert POLICY.ask(capacity=80, held=40, used=40, waiting=1) == 1 + 10
    assert POLICY.ask(capacity=7, held=4, used=4, waiting=2) == 2  # a small pool: no slack


def test_never_more_than_the_capacity_and_nothing_from_an_empty_pool() -> None:
    assert POLICY.ask(capacity=5, held=0, used=0, waiting=50) == 5
    assert POLICY.ask(capacity=0, held=0, used=0, waiting=3) == 0


def test_what_a_tick_left_unused_goes_back() -> None:
    assert POLICY.surplus(held=20, used=3, peak=12) == 8
    assert POLICY.surplus(held=20, used=3, peak=3) == 17
    assert POLICY.surplus(held=5, used=5, peak=5) == 0
    assert POLICY.surplus(held=2, used=4, peak=4) == 0  # a lapsed hold: nothing to give


def test_a_peer_gets_every_idle_token() -> None:
    assert POLICY.idle(held=20, used=3) == 17
    assert POLICY.idle(held=3, used=5) == 0
