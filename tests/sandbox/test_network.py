"""The network (issue 4 §3): egress to a host service through the mapped address, "none"
mode, and no path to another environment or to the server's internal ports."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from lambent.sandbox.namespaces.environment import NamespaceEnvironment
from lambent.sandbox.namespaces.network import HOST_ADDRESS
from tests.sandbox.support import (
    Harness,
    harness,
    read_output,
    result_of,
    script_code,
    script_launch,
    tcp_probe,
)

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def internal_port() -> Iterator[int]:
    """A host loopback port standing for one of the server's internal ports."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, internal_port: int) -> Iterator[Harness]:
    with harness(
        tmp_path_factory.mktemp("net"),
        network_slots_ready=3,
        scratch_ready=2,
        blocked_host_ports=(internal_port,),
    ) as h:
        yield h


def postgres_available() -> None:
    if tcp_probe("127.0.0.1", 5432):
        return
    if os.environ.get("LAMBENT_REQUIRE_SERVICES") == "1":
        pytest.fail("LAMBENT_REQUIRE_SERVICES=1 but PostgreSQL is not listening on :5432")
    pytest.skip("no PostgreSQL on 127.0.0.1:5432")


def probe(net: Harness, event: dict[str, Any], network: str = "egress") -> dict[str, Any]:
    tpl = net.template(script_code(net, "network"), launch=script_launch(), network=network)
    try:
        env = net.spawn(tpl, env={"ATTACK_EVENT": json.dumps(event)})
        got = result_of(read_output(env, net))
        net.destroy(env)
        return got
    finally:
        net.run(tpl.close())


def guest_address(net: Harness, env: NamespaceEnvironment) -> str:
    assert env.slot_index is not None
    return net.sandbox.network.plan.guest_side(env.slot_index)


def test_egress_reads_a_row_from_the_hosts_postgresql(net: Harness) -> None:
    postgres_available()
    got = probe(net, {})
    assert got["postgres"] == "lambent-42"
    assert "eth0" in got["interfaces"]


def test_no_network_mode_has_loopback_only(net: Harness) -> None:
    got = probe(net, {"timeout": 1.0, "probes": [[HOST_ADDRESS, 5432]]}, network="none")
    assert got["interfaces"] == ["lo"]
    assert got["postgres"] != "lambent-42"
    assert got["probes"][f"{HOST_ADDRESS}:5432"] != "connected"
    assert got["own_runtime_api"] == "connected"  # its own Runtime API still works


def test_no_slot_address_is_reachable_routed_or_not(net: Harness) -> None:
    """A slot address with no environment behind it, and any address where another
    server's slots live, is dropped: never sent out by the default route, where a
    transparent proxy (as on some CI hosts) would accept the connection."""
    plan = net.sandbox.network.plan
    own = int(plan.subnet.network_address)
    elsewhere = (own & ~0xFFFF) + 0x10000 if own & 0x3F0000 != 0x3F0000 else own - 0x10000
    targets = [
        [plan.guest_side(plan.capacity - 2), 9001],  # an unused slot of this server
        [str(ipaddress.IPv4Address(elsewhere + 74)), 9001],  # another server's /16
    ]
    got = probe(net, {"timeout": 1.0, "probes": targets})
    assert all(result != "connected" for result in got["probes"].values()), got["probes"]


def test_cannot_reach_another_environment_or_internal_ports(
    net: Harness, internal_port: int
) -> None:
    victim_tpl = net.template(script_code(net, "busy_loop"), launch=script_launch())
    victim = net.spawn(victim_tpl, env={"ATTACK_EVENT": json.dumps({"seconds": 60})})
    try:
        assert victim.slot_index is not None
        plan = net.sandbox.network.plan
        targets = [
            [guest_address(net, victim), 9001],  # the victim's own address
            [plan.host_side(victim.slot_index), 9001],  # the host end of its veth
            [HOST_ADDRESS, internal_port],  # a blocked internal port of the server
        ]
        got = probe(net, {"timeout": 1.0, "probes": targets})
        assert all(result != "connected" for result in got["probes"].values()), got["probes"]
        # nothing arrived on the victim's Runtime API socket
        victim.runtime_api_socket.setblocking(False)
        with pytest.raises(BlockingIOError):
            victim.runtime_api_socket.accept()
    finally:
        net.destroy(victim)
        net.run(victim_tpl.close())
