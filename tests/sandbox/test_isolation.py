"""An environment's view of the world: identity, syscalls, files, processes (issue 4 §1).

Each test runs one attack from tests/sandbox/attacks as a `provided` function's script and
checks that the attempt was contained.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.support import Harness, read_output, result_of, script_code, script_launch

pytestmark = pytest.mark.sandbox

ALL_CAPS_CLEAR = "0000000000000000"


def run_attack(
    sandbox: Harness,
    attack: str,
    event: dict[str, Any] | None = None,
    memory_mb: int = 1024,
    **template: Any,
) -> dict[str, Any]:
    tpl = sandbox.template(script_code(sandbox, attack), launch=script_launch(), **template)
    try:
        env = sandbox.spawn(tpl, memory_mb=memory_mb, env={"ATTACK_EVENT": json.dumps(event or {})})
        output = read_output(env, sandbox)
        sandbox.destroy(env)
        return result_of(output)
    finally:
        sandbox.run(tpl.close())


def test_runs_as_uid_993_without_capabilities(sandbox: Harness) -> None:
    got = run_attack(sandbox, "identity")
    assert (got["uid"], got["euid"], got["gid"]) == (993, 993, 990)
    assert set(got["caps"].values()) == {ALL_CAPS_CLEAR}
    assert got["no_new_privs"] == "1"
    assert got["seccomp"] == "2"  # filter mode
    assert got["pid"] == 1  # PID 1 of its own pid namespace
    words = got["uid_map"]
    mapped = {words[i]: words[i + 1] for i in range(0, len(words), 3)}
    # 993 is the environment's own host uid; 0 the sandbox's root, which owns nothing on
    # the host: both unprivileged host uids, never the host's root.
    assert set(mapped) == {"0", "993"} and mapped["0"] != mapped["993"]
    assert all(int(outside) >= 1_000_000 for outside in mapped.values())
    assert got["env_runtime_api"] == "127.0.0.1:9001"
    assert got["cwd"] == "/var/task"
    assert got["hostname"].startswith("169.254.")


def test_seccomp_denies_dangerous_syscalls(sandbox: Harness) -> None:
    results = run_attack(sandbox, "syscalls")["results"]
    assert results, "the attack reported nothing"
    denied = {name: got for name, got in results.items() if got != "EPERM"}
    assert denied == {}, f"calls not refused with EPERM: {denied}"


def test_cannot_read_host_files_or_write_code(sandbox: Harness) -> None:
    other = script_code(sandbox, "identity")
    secret_file = sandbox.work / "data-secret"
    secret_file.write_text("server data")
    secret_file.chmod(0o644)
    event = {
        "read": [
            str(secret_file),
            str(other / "attack.py"),
            "/work/main/pyproject.toml",
            "/etc/hostname.host",
            "/proc/1/environ",
            "/sys/kernel/notes",
        ],
        "list": [str(sandbox.work), str(other), "/root", "/home", "/var/lib", "/sys", "/dev"],
    }
    got = run_attack(sandbox, "filesystem", event)
    assert got["task_readable"] == "read"
    assert got["tmp_write"] == "written"
    assert set(got["write"].values()) <= {"OSError", "PermissionError"}, got["write"]
    readable = {p: r for p, r in got["read"].items() if r == "read" and p != "/proc/1/environ"}
    assert readable == {}, f"host files readable: {readable}"
    listed = got["list"]
    for path in (str(sandbox.work), str(other), "/var/lib", "/sys"):
        assert listed[path] == "FileNotFoundError", (path, listed[path])
    assert listed["/root"] == []  # a mountpoint of the synthetic root, empty
    assert listed["/home"] == ["sbx_user1051"]
    assert set(listed["/dev"]) == {
        "fd",
        "full",
        "null",
        "random",
        "stderr",
        "stdin",
        "stdout",
        "urandom",
        "zero",
    }
    assert "root" not in got["passwd"].split("sbx_user1051")[1]
    assert set(got["root"]) <= {
        "bin",
        "dev",
        "etc",
        "home",
        "lambda-entrypoint.sh",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "opt",
        "proc",
        "root",
        "sbin",
        "tmp",
        "usr",
        "var",
    }


def test_cannot_see_signal_or_trace_other_processes(sandbox: Harness) -> None:
    code = script_code(sandbox, "busy_loop")
    from tests.sandbox.support import script_launch as launch

    tpl = sandbox.template(code, launch=launch())
    sibling = sandbox.spawn(tpl, env={"ATTACK_EVENT": json.dumps({"seconds": 30})})
    try:
        import os

        targets = [sibling.pid, os.getpid(), 1]
        got = run_attack(sandbox, "processes", {"targets": targets})
        assert got["visible"] == [1] or set(got["visible"]) <= {1, 2, 3}, got["visible"]
        assert all(v == "ESRCH" for v in got["signals"].values()), got["signals"]
        assert all(v in ("EPERM", "ESRCH") for v in got["ptrace"].values()), got["ptrace"]
        assert not sibling.exited(), "the sibling environment was hurt"
    finally:
        sandbox.destroy(sibling)
        sandbox.run(tpl.close())


def test_open_files_are_capped_at_1024(sandbox: Harness) -> None:
    got = run_attack(sandbox, "exhaust_fds")
    assert got["error"] == "EMFILE"
    assert 1000 <= got["opened"] < 1024
    assert got["limit"] == [1024, 1024]
    assert got["raise_limit"] == "ValueError"  # cannot raise the hard limit


def test_fork_bomb_is_contained_by_nproc_and_pids_max(sandbox: Harness) -> None:
    got = run_attack(sandbox, "fork_bomb")
    assert got["error"] == "EAGAIN"
    # RLIMIT_NPROC 742 (Lambda's) counts the handler's own process too; pids.max 1024 backs it
    assert 700 <= got["forked"] < 742
    # and the sandbox still makes environments that work
    assert run_attack(sandbox, "identity")["uid"] == 993
