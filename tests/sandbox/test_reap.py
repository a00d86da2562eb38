"""A server killed with SIGKILL leaves nothing behind once the next one has started
(issue 8 §1.8), a live server's resources are never taken for a dead one's, no subnet
that is still routed is claimed again, and a port in use leaves the host as it was (§1.13).

Every server here is a real `lambent serve --sandbox namespaces`; the host is read with
`ip`, `nft`, `losetup`, /proc and cgroupfs (tests/host_state.py).
"""

from __future__ import annotations

import ipaddress
import itertools
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.host_state import HostState, describe_processes, live_tags, subnet_of, tag_of_pid
from tests.sandbox.crash_support import (
    deploy_reach,
    frozen_count,
    hold_running,
    host_service,
    invoke,
    reach_in_parallel,
    sandbox_tag,
    serve,
    wait_until,
)
from tests.sandbox.support import harness, require_sandbox
from tests.support import REPO, free_port

pytestmark = pytest.mark.sandbox


def test_a_sigkilled_server_is_reaped_by_the_next_one(tmp_path: Path) -> None:
    require_sandbox()
    data = tmp_path / "data"
    with host_service() as host, ThreadPoolExecutor(2) as holders:
        old = serve(data)
        try:
            tag = sandbox_tag(old)
            lam = deploy_reach(old)
            # Three environments at once, then idle: they go into the freezer.
            assert reach_in_parallel(lam, "reach", host.port, 3, hold=1.0) == ["host-ok"] * 3
            # A SnapStart version: an unprivileged template that ran the init, and a restore.
            deploy_reach(old, "snap", "python3.12", SnapStart={"ApplyOn": "PublishedVersions"})
            version = lam.publish_version(FunctionName="snap")["Version"]
            assert wait_until(
                lambda: (
                    lam.get_function_configuration(FunctionName="snap", Qualifier=version)["State"]
                    == "Active"
                ),
                timeout=120,
            )
            assert invoke(lam, "snap", {"port": host.port, "id": "snap"}, version) == "host-ok"
            assert wait_until(lambda: frozen_count(tag) >= 4, timeout=60), "nothing froze"
            # Two more that are running when the server dies (their own function, so the
            # frozen environments stay frozen).
            deploy_reach(old, "hold")
            running = hold_running(holders, lam, "hold", host, count=2)
            on_data_dir = HostState.capture([data])  # only this server uses the data dir
            before = on_data_dir.of_tag(tag)
            # What the crash leaves: frozen and running environments, templates, slots.
            assert len(before.frozen_cgroups) >= 4, before.describe()
            assert len(before.processes) >= 6, before.describe()
            assert before.links and before.routes and before.nft_tables, before.describe()
            assert on_data_dir.loop_devices and on_data_dir.images, on_data_dir.describe()
        finally:
            old.stop(sig=signal.SIGKILL)
        for future in running:
            assert future.exception(timeout=60) is not None  # the server died under it

        new = serve(data)
        try:
            now = HostState.capture([data])
            left = now.of_tag(tag)
            assert left.empty, f"left by the killed server:\n{left.describe()}"
            assert before.still_running() == [], describe_processes(before.still_running())
            assert not now.loop_devices & on_data_dir.loop_devices, now.describe()
            assert not now.images & on_data_dir.images, now.describe()
            new_tag = sandbox_tag(new)
            # Functions reach the host again, from several environments at once.
            lam = new.client("lambda", max_pool_connections=32)
            assert reach_in_parallel(lam, "reach", host.port, 4) == ["host-ok"] * 4
            assert invoke(lam, "snap", {"port": host.port, "id": "again"}, version) == "host-ok"
        finally:
            assert new.stop() == 0
    assert HostState.capture([data]).of_tag(new_tag).empty


def test_a_server_killed_during_start_up_is_reaped_too(tmp_path: Path) -> None:
    require_sandbox()
    data = tmp_path / "data"
    argv = [sys.executable, "-m", "lambent", "serve", "--sandbox", "namespaces"]
    argv += ["--port", str(free_port()), "--data-dir", str(data)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
    )
    try:
        # Registered, nft table made, the first network slot being made: kill it there.
        assert wait_until(
            lambda: (
                (tag := tag_of_pid(proc.pid)) is not None
                and Path(f"/sys/class/net/lb{tag}0").exists()
            ),
            timeout=60,
            interval=0.002,
        )
        tag = tag_of_pid(proc.pid)
    finally:
        proc.kill()
        output = proc.communicate(timeout=60)[0]
    assert tag is not None and "ready" not in output, output
    new = serve(data)
    try:
        left = HostState.capture([data]).of_tag(tag)
        assert left.empty, f"left by the server killed at start-up:\n{left.describe()}"
    finally:
        assert new.stop() == 0


def test_servers_beside_a_live_one_take_nothing_of_it(tmp_path: Path) -> None:
    """Another server on another data dir, and one on the same data dir, start while the
    first has frozen environments: it keeps all of it, and no two share a subnet."""
    require_sandbox()
    first_dir, other_dir = tmp_path / "first", tmp_path / "other"
    with host_service() as host:
        first = serve(first_dir)
        try:
            first_tag = sandbox_tag(first)
            lam = deploy_reach(first)
            assert reach_in_parallel(lam, "reach", host.port, 2, hold=1.0) == ["host-ok"] * 2
            assert wait_until(lambda: frozen_count(first_tag) >= 2, timeout=60)
            on_data_dir = HostState.capture([first_dir])  # only the first server uses it yet
            before = on_data_dir.of_tag(first_tag)
            assert on_data_dir.images and on_data_dir.loop_devices, on_data_dir.describe()
            other = serve(other_dir)
            beside = serve(first_dir)  # the same data dir: its /tmp images live there too
            try:
                now = HostState.capture([first_dir])
                after = now.of_tag(first_tag)
                for name in ("processes", "cgroups", "frozen_cgroups", "links", "routes"):
                    assert getattr(before, name) <= getattr(after, name), name
                assert before.nft_tables <= after.nft_tables and before.records <= after.records
                # The first server's /tmp images and their loop devices, whatever their names.
                assert on_data_dir.images <= now.images, now.describe()
                assert on_data_dir.loop_devices <= now.loop_devices, now.describe()
                tags = [first_tag, sandbox_tag(other), sandbox_tag(beside)]
                nets = [subnet_of(tag) for tag in tags]
                assert all(isinstance(n, ipaddress.IPv4Network) for n in nets), nets
                for a, b in itertools.combinations(nets, 2):
                    assert a is not None and b is not None and not a.overlaps(b), nets
                # The first server's frozen environments still serve, and so does the other.
                assert reach_in_parallel(lam, "reach", host.port, 2) == ["host-ok"] * 2
                other_lam = deploy_reach(other)
                assert reach_in_parallel(other_lam, "reach", host.port, 2) == ["host-ok"] * 2
            finally:
                assert beside.stop() == 0
                assert other.stop() == 0
        finally:
            assert first.stop() == 0


def _host_routes() -> list[ipaddress.IPv4Network]:
    nets = []
    for line in HostState.capture().routes:
        words = line.split()
        target = words[1] if words[0] in ("local", "broadcast", "blackhole") else words[0]
        nets.append(ipaddress.IPv4Network(target, strict=False))
    return nets


def _claimed() -> list[ipaddress.IPv4Network]:
    import json

    nets = []
    for path in Path("/run/lambent-sandbox").glob("*.json"):
        if path.stem not in live_tags():
            continue
        record = json.loads(path.read_text())
        if record.get("network"):
            nets.append(ipaddress.IPv4Network(record["network"]))
        elif int(record.get("subnet", -1)) >= 0:
            nets.append(ipaddress.IPv4Network(f"100.{64 + int(record['subnet'])}.0.0/16"))
    return nets


def test_a_subnet_that_is_still_routed_is_never_claimed(tmp_path: Path) -> None:
    """A route the registry does not know of (a dead server's veth that outlived it, a VPN)
    keeps a sandbox off its /16."""
    require_sandbox()
    taken = _host_routes() + _claimed()
    free = next(
        net
        for net in (ipaddress.IPv4Network(f"100.{64 + i}.0.0/16") for i in range(64))
        if not any(net.overlaps(t) for t in taken)
    )
    routed = ipaddress.IPv4Network(f"{free.network_address + 200 * 256}/24")
    subprocess.run(["ip", "route", "add", "blackhole", str(routed)], check=True)
    try:
        with harness(tmp_path, network_slots_ready=1, scratch_ready=1) as h:
            chosen = h.sandbox.network.plan.subnet
            assert not chosen.overlaps(routed), (chosen, routed)
            assert not any(chosen.overlaps(t) for t in taken), (chosen, taken)
    finally:
        subprocess.run(["ip", "route", "del", "blackhole", str(routed)], check=True)


def test_a_port_in_use_is_one_line_and_leaves_the_host_as_it_was(tmp_path: Path) -> None:
    require_sandbox()
    data = tmp_path / "data"
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        before = HostState.capture([tmp_path])
        argv = [sys.executable, "-m", "lambent", "serve", "--sandbox", "namespaces"]
        argv += ["--port", str(port), "--data-dir", str(data)]
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
        )
        stdout, stderr = proc.communicate(timeout=120)
        after = HostState.capture([tmp_path])
    assert proc.returncode != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert str(port) in lines[0] and "already in use" in lines[0], lines[0]
    assert "Traceback" not in stdout + stderr
    leaked = after.leaked_since(before, culprit=proc.pid)
    assert leaked.empty, f"left by a server that could not start:\n{leaked.describe()}"
