"""Pure pieces of the reaper: which subnet is free, what a record says (in today's format
and the one servers wrote before), which cgroup directories are a dead sandbox's, and when
a record may be forgotten. No root needed: cgroup trees are plain directories here."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from pathlib import Path

import pytest

from lambent.sandbox.namespaces import reaper, stale, subnets
from lambent.sandbox.namespaces.netlink import Route
from lambent.sandbox.namespaces.registry import Record, Registry, start_time

MAIN, LOCAL, VPN = 254, 255, 52


def net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def route(text: str, table: int = MAIN) -> Route:
    return Route(net(text), table, oif=3)


def test_the_first_default_subnet_nobody_claims_or_routes_is_chosen() -> None:
    assert subnets.choose([], []) == net("100.64.0.0/16")
    assert subnets.choose([net("100.64.0.0/16")], []) == net("100.65.0.0/16")
    # A leftover veth's /30 route in 100.65 (the registry forgot it): skipped as well.
    claimed = [net("100.64.0.0/16")]
    assert subnets.choose(claimed, [route("100.65.0.4/30")]) == net("100.66.0.0/16")
    # An address on some interface (its local route) or a VPN's table count too.
    assert subnets.choose([], [route("100.64.9.9/32", LOCAL)]) == net("100.65.0.0/16")
    assert subnets.choose([], [route("100.64.0.0/12", VPN)]) == net("100.80.0.0/16")


def test_the_default_route_does_not_count_and_a_covering_route_leaves_nothing() -> None:
    assert subnets.choose([], [route("0.0.0.0/0")]) == net("100.64.0.0/16")
    with pytest.raises(subnets.SubnetUnavailable, match="every /16"):
        subnets.choose([], [route("100.64.0.0/10")])


def test_a_configured_subnet_is_refused_when_routed_or_claimed() -> None:
    assert subnets.choose([], [], net("10.200.0.0/16")) == net("10.200.0.0/16")
    with pytest.raises(subnets.SubnetUnavailable, match=r"10\.200\.0\.0/16 overlaps"):
        subnets.choose([], [route("10.200.3.0/24")], net("10.200.0.0/16"))
    with pytest.raises(subnets.SubnetUnavailable):
        subnets.choose([net("10.200.0.0/20")], [], net("10.200.0.0/16"))


def test_records_round_trip_and_older_records_are_understood(tmp_path: Path) -> None:
    record = Record("beef", 42, "1234", (tmp_path / "cg",), net("100.66.0.0/16"), tmp_path)
    assert Record.from_json("beef", record.to_json()) == record
    # Servers from before the "network" field read the index: it stays there.
    assert json.loads(record.to_json())["subnet"] == 2
    other = Record("cafe", 1, "1", (), net("10.9.0.0/16"))
    assert json.loads(other.to_json())["subnet"] == -1
    old = {"pid": 7, "start": "9", "cgroups": ["/x/lambent-abcd"], "nft_table": "lambent_abcd"}
    parsed = Record.from_json("abcd", json.dumps({**old, "subnet": 3}))
    assert parsed.subnet == net("100.67.0.0/16") and parsed.scratch_dir is None
    assert (parsed.nft_table, parsed.link_prefix, parsed.scratch_prefix) == (
        "lambent_abcd",
        "lbabcd",
        "tmp-abcd-",
    )


def test_a_record_is_alive_only_with_its_pid_and_that_pids_start_time() -> None:
    me = os.getpid()
    assert Record("t", me, start_time(me)).alive()
    assert not Record("t", me, "0").alive()  # the pid was reused by another process
    assert not Record("t", 0, None).alive()


def test_orphan_cgroups_are_only_sandbox_trees_of_no_live_tag(tmp_path: Path) -> None:
    leaf = "0123456789abcdef0123456789abcdef"
    (tmp_path / "a" / "lambent-beef" / leaf).mkdir(parents=True)
    (tmp_path / "a" / "lambent-beef" / "templates").mkdir()
    (tmp_path / "lambent-cafe" / leaf).mkdir(parents=True)  # a live sandbox
    (tmp_path / "b" / "lambent-face" / "postgres").mkdir(parents=True)  # not ours
    (tmp_path / "lambent-server.service").mkdir()  # a unit named like us: not a tag
    found = list(reaper.orphan_cgroups(tmp_path, live_tags={"cafe"}))
    assert found == [("beef", tmp_path / "a" / "lambent-beef")]


def test_a_dead_record_is_forgotten_only_once_its_cgroups_are_gone(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "run")
    registry.run_dir.mkdir()
    gone = tmp_path / "cg" / "lambent-dea1"
    (gone / "0123456789abcdef0123456789abcdef").mkdir(parents=True)
    stuck = tmp_path / "cg" / "lambent-dea2"
    stuck.mkdir(parents=True)
    (stuck / "busy").write_text("")  # rmdir fails, as on a cgroup that still has tasks
    dead = [Record("dea1", 999_999_999, "1", (gone,)), Record("dea2", 999_999_999, "1", (stuck,))]
    for record in dead:
        registry.write(record)
    reaped = stale.sweep(registry, dead)
    assert [r.complete for r in reaped] == [True, False]
    assert not gone.exists()
    assert [r.tag for r in registry.records()] == ["dea2"]  # tried again at the next start
    assert "could not remove cgroups" in reaped[1].describe()


def test_each_reap_is_one_warning_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The operator sees what a dead server left (the issue: "nothing is logged")."""
    registry = Registry(tmp_path / "run")
    registry.run_dir.mkdir()
    parent = tmp_path / "cg" / "lambent-dea3"
    (parent / "0123456789abcdef0123456789abcdef").mkdir(parents=True)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    (scratch / "tmp-dea3-0.img").write_bytes(b"")
    (scratch / "tmp-beef-0.img").write_bytes(b"")  # another sandbox's: kept
    record = Record("dea3", 999_999_999, "1", (parent,), None, scratch)
    registry.write(record)
    with caplog.at_level(logging.WARNING):
        stale.sweep(registry, [record])
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "dead server pid 999999999" in lines[0] and "sandbox dea3" in lines[0]
    assert "2 cgroups" in lines[0] and "1 /tmp images" in lines[0]
    assert [p.name for p in scratch.iterdir()] == ["tmp-beef-0.img"]
