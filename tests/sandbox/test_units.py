"""Pure pieces of the namespaces backend, no root needed: cgroup drivers against a fake
cgroupfs in a temp dir (cgroup v2 cannot be exercised for real on this cgroup-v1 host),
the root filesystem plan, the nftables ruleset, addresses and exit statuses."""

from __future__ import annotations

import ipaddress
import signal
from pathlib import Path

import pytest

from lambent.sandbox.interface import RuntimeLaunch, TemplateSpec
from lambent.sandbox.namespaces import cgroups, nftables, rootfs
from lambent.sandbox.namespaces.environment import exit_status
from lambent.sandbox.namespaces.network import HOST_ADDRESS, AddressPlan


def fake_v2(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / "srv").mkdir()
    (root / "srv" / "cgroup.subtree_control").write_text("")


class FakeV2(cgroups.CgroupV2):
    """On cgroupfs the kernel creates a leaf's interface files; a temp dir needs them made."""

    def make_leaf(self, path: Path) -> None:
        path.mkdir()
        for name in (
            "memory.max",
            "memory.swap.max",
            "cpu.max",
            "pids.max",
            "cgroup.freeze",
            "cgroup.procs",
            "memory.peak",
            "memory.events",
            "cpu.stat",
            "cgroup.subtree_control",
        ):
            (path / name).write_text("")


def test_v2_detected_from_the_unified_hierarchy(tmp_path: Path) -> None:
    fake_v2(tmp_path)
    driver = cgroups.detect(tmp_path, "lambent-t", proc_self_cgroup="0::/srv\n")
    assert isinstance(driver, cgroups.CgroupV2)
    assert driver.parent == tmp_path / "srv" / "lambent-t"


def test_v2_limits_freeze_and_accounting(tmp_path: Path) -> None:
    fake_v2(tmp_path)
    driver = FakeV2(tmp_path / "srv" / "lambent-t")
    driver.setup()
    assert (tmp_path / "srv" / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    group = driver.create("env1", 256)
    d = group.dirs[0]
    assert d == tmp_path / "srv" / "lambent-t" / "env1"
    assert (d / "memory.max").read_text() == str(256 << 20)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "pids.max").read_text() == "1024"
    assert (d / "cpu.max").read_text() == ""  # no quota while the sandbox is set up
    group.limit_cpu(1769)
    assert (d / "cpu.max").read_text() == "100000 100000"
    group.limit_cpu(128)
    assert (d / "cpu.max").read_text() == f"{128 * 100000 // 1769} 100000"
    group.freeze()
    assert (d / "cgroup.freeze").read_text() == "1"
    group.thaw()
    assert (d / "cgroup.freeze").read_text() == "0"
    (d / "memory.peak").write_text("123456\n")
    (d / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (d / "cpu.stat").write_text("usage_usec 2500\nuser_usec 2000\n")
    assert group.memory_peak_bytes() == 123456
    assert group.oom_kills() == 1
    assert group.cpu_usage_ns() == 2_500_000
    (d / "cgroup.procs").write_text("")
    with pytest.raises(FileExistsError):
        driver.create("env1", 128)


def test_v1_detection_needs_every_controller(tmp_path: Path) -> None:
    for controller in cgroups.V1_CONTROLLERS:
        (tmp_path / controller).mkdir()
        (tmp_path / controller / "cgroup.procs").write_text("")
    text = "4:memory:/srv\n3:cpu:/\n2:pids:/\n"
    driver = cgroups.detect(tmp_path, "lambent-t", proc_self_cgroup=text)
    assert isinstance(driver, cgroups.CgroupV1)
    parents = dict(zip(cgroups.V1_CONTROLLERS, driver.parents(), strict=True))
    assert parents["memory"] == tmp_path / "memory" / "srv" / "lambent-t"
    assert parents["cpu"] == tmp_path / "cpu" / "lambent-t"
    (tmp_path / "freezer" / "cgroup.procs").unlink()
    with pytest.raises(OSError, match="freezer"):
        cgroups.detect(tmp_path, "lambent-t", proc_self_cgroup=text)


@pytest.mark.parametrize(
    ("memory", "quota"),
    [(128, 7235), (1769, 100_000), (3538, 200_000), (10240, 578_858), (1, 1000)],
)
def test_cpu_quota_is_proportional_to_memory(memory: int, quota: int) -> None:
    assert cgroups.cpu_quota_us(memory) == quota


def test_favordynmods_is_detected_from_mounts() -> None:
    mounts = "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime,favordynmods 0 0\n"
    assert cgroups.favor_dynamic_modifications(mounts)


def spec(tmp_path: Path, layers: int, *, image: bool = True) -> TemplateSpec:
    root = tmp_path / "image"
    (root / "lang").mkdir(parents=True, exist_ok=True)
    (root / "runtime").mkdir(exist_ok=True)
    launch = RuntimeLaunch(
        "python3.12",
        "python",
        ("/var/lang/bin/python3.12", "/var/runtime/b.py"),
        "/var/lang/bin/python3.12",
        image=root if image else None,
    )
    return TemplateSpec(
        key="k",
        account_id="1",
        function_name="f",
        version="1",
        launch=launch,
        handler="a.b",
        code_dir=tmp_path / "code",
        layer_dirs=tuple(tmp_path / f"l{i}" for i in range(layers)),
        guest_dir=tmp_path / "guest",
    )


def test_root_plan_exposes_only_what_runtimes_need(tmp_path: Path) -> None:
    plan = rootfs.plan(spec(tmp_path, 3), tmp_path / "staging", etc_resolv="nameserver 1.1.1.1")
    binds = dict((target, source) for source, target in plan["binds"])
    assert binds["/var/lang"] == str(tmp_path / "image" / "lang")
    # Every bind lands on a system path or on Lambda's own directories, never on a host path
    # of its own name (a checkout, a virtualenv, a pyenv prefix).
    system = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc/")
    assert [t for t in binds if not t.startswith(system) and t not in LAMBDA_DIRS] == []
    assert not any(t.startswith(("/etc/shadow", "/root", "/home", "/var/lib")) for t in binds)
    # The runtime's root is shared by every function of the runtime: no function's code or
    # layers in it (each template mounts its own, see test_templates.py).
    assert "/var/task" not in binds and "/opt" not in binds
    assert not any(str(tmp_path / "code") in s or "/l0" in s for s in binds.values())
    # the image's runtime directory lies under Lambent's runtime client
    overlays = dict((target, lowers) for target, lowers in plan["overlays"])
    assert overlays == {"/var/runtime": [str(tmp_path / "guest"), str(tmp_path / "image/runtime")]}
    files = {path: (content, mode) for path, content, mode in plan["files"]}
    assert "sbx_user1051:x:993:990" in files["/etc/passwd"][0]
    assert "shadow" not in " ".join(files)
    assert f"{HOST_ADDRESS} host.lambent.internal" in files["/etc/hosts"][0]
    assert files["/etc/resolv.conf"][0] == "nameserver 1.1.1.1\n"
    entry, mode = files["/lambda-entrypoint.sh"]
    assert mode == 0o755 and entry.startswith("#!/bin/sh\n")
    assert entry.endswith("exec /var/lang/bin/python3.12 /var/runtime/b.py\n")


LAMBDA_DIRS = ("/var/task", "/var/lang", "/var/runtime", "/opt")


def test_a_runtime_without_image_has_no_var_lang(tmp_path: Path) -> None:
    plan = rootfs.plan(spec(tmp_path, 0, image=False), tmp_path / "staging", etc_resolv="")
    binds = dict((target, source) for source, target in plan["binds"])
    assert "/var/lang" not in binds and "/var/lang" not in plan["dirs"]
    assert binds["/var/runtime"] == str(tmp_path / "guest")
    assert plan["overlays"] == []


def test_loopback_resolvers_go_through_the_host_address() -> None:
    text = "search example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n"
    assert rootfs.resolv_conf(text) == (
        f"search example\nnameserver {HOST_ADDRESS}\nnameserver 10.0.0.2\n"
    )


def test_slot_addresses_and_ruleset() -> None:
    plan = AddressPlan(ipaddress.IPv4Network("100.77.0.0/16"), "beef")
    assert (plan.host_side(0), plan.guest_side(0)) == ("100.77.0.1", "100.77.0.2")
    assert (plan.host_side(5), plan.guest_side(5)) == ("100.77.0.21", "100.77.0.22")
    assert plan.host_ifname(12) == "lbbeef12" and len(plan.host_ifname(16383)) <= 15
    assert plan.capacity == 16384
    rules = nftables.ruleset("lambent_beef", plan, (9000, 9001), (8080,))
    assert f'iifname "lbbeef*" ip daddr {HOST_ADDRESS} dnat to 127.0.0.1' in rules
    assert 'iifname "lbbeef*" ip daddr 127.0.0.1 snat to 127.0.0.1' in rules
    assert 'iifname "lbbeef*" oifname "lbbeef*" drop' in rules  # no env-to-env traffic
    assert "tcp dport { 9000, 9001 } drop" in rules
    assert "masquerade" in rules
    # the server's public port keeps the environment's own source address
    keep = 'iifname "lbbeef*" ip daddr 127.0.0.1 tcp dport { 8080 } accept'
    assert rules.index(keep) < rules.index("snat to 127.0.0.1")


def test_exit_status_mapping() -> None:
    killed = exit_status(signal.SIGKILL, oom_killed=True)
    assert killed.signal == 9 and killed.oom_killed and killed.describe() == "signal: killed"
    assert exit_status(3 << 8, oom_killed=True) == exit_status(3 << 8, oom_killed=False)
    assert exit_status(3 << 8, oom_killed=False).describe() == "exit status 3"
    assert not exit_status(signal.SIGTERM, oom_killed=True).oom_killed
