"""Nothing is left behind (issue 4 §2 Cleanup): per environment, and after Sandbox.close()."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.sandbox.support import harness, read_output, script_code, script_launch, serve_one

pytestmark = pytest.mark.sandbox


def links(prefix: str) -> list[str]:
    out = subprocess.run(
        ["ip", "-o", "link", "show"], check=False, capture_output=True, text=True
    ).stdout
    return [
        line.split(":")[1].strip().split("@")[0]
        for line in out.splitlines()
        if line.split(":")[1].strip().startswith(prefix)
    ]


def loop_devices_under(path: Path) -> list[str]:
    out = subprocess.run(
        ["losetup", "-l", "-n", "-O", "NAME,BACK-FILE"], check=False, capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if str(path) in line]


def nft_tables() -> str:
    return subprocess.run(
        ["nft", "list", "tables"], check=False, capture_output=True, text=True
    ).stdout


def cgroup_dirs(name: str) -> list[Path]:
    """Every cgroup called `name`; os.walk skips what other servers remove mid-walk."""
    return [Path(top, d) for top, dirs, _ in os.walk("/sys/fs/cgroup") for d in dirs if d == name]


def test_environment_and_sandbox_leave_nothing_behind(tmp_path: Path) -> None:
    with harness(tmp_path, network_slots_ready=2, scratch_ready=2) as h:
        config = h.sandbox.config
        tpl = h.template(script_code(h, "identity"), launch=script_launch())
        snap = h.template(
            h.code_dir({"app.py": "def handler(e, c):\n    return e\n"}), snapstart=True
        )
        env = h.spawn(tpl, env={"ATTACK_EVENT": json.dumps({})})
        restored = h.spawn(snap)
        leaves = list(env.cgroup.dirs) + list(restored.cgroup.dirs)
        assert all(d.is_dir() for d in leaves)
        read_output(env, h)
        inv = h.run(serve_one(restored, {"x": 1}))
        assert inv.response == b'{"x": 1}'
        h.destroy(env)
        h.destroy(restored)
        assert not any(d.exists() for d in leaves), "environment cgroups left behind"
        h.run(tpl.close())
        h.run(snap.close())
        assert links(f"lb{config.tag}"), "slots should exist while the sandbox runs"
    # after close: no cgroup, veth, nft table, loop device, image or staging mount
    assert cgroup_dirs(config.cgroup_name) == []
    assert links(f"lb{config.tag}") == []
    assert f"lambent_{config.tag}" not in nft_tables()
    assert loop_devices_under(config.work) == []
    assert not list((config.work / "tmp").glob("*.img"))
    mounts = Path("/proc/self/mounts").read_text()
    assert str(config.work) not in mounts
    assert not Path(f"/run/lambent-sandbox/{config.tag}.json").exists()
