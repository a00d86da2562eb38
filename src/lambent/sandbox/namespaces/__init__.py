"""The `namespaces` sandbox backend (Linux, root): see docs/SANDBOX.md.

`lambent.sandbox.select` looks for `create(settings, work)` and `unavailable_reason()`.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
from pathlib import Path

from lambent.sandbox.namespaces import cgroups
from lambent.sandbox.namespaces.backend import NamespacesSandbox
from lambent.sandbox.namespaces.config import NamespacesConfig
from lambent.settings import Settings


def unavailable_reason() -> str | None:
    """Why this machine cannot run the backend, or None when it can."""
    if os.geteuid() != 0:
        return "not running as root"
    for ns in ("user", "mnt", "pid", "net", "ipc", "uts"):
        if not os.path.exists(f"/proc/self/ns/{ns}"):
            return f"the kernel has no {ns} namespaces"
    if (
        ctypes.util.find_library("seccomp") is None
        and not Path("/usr/lib/x86_64-linux-gnu/libseccomp.so.2").exists()
    ):
        return "libseccomp is not installed"
    if shutil.which("nft", path="/usr/sbin:/sbin:/usr/bin") is None:
        return "nftables (nft) is not installed"
    if not Path("/sys/fs/cgroup").is_dir():
        return "cgroups are not mounted"
    try:
        cgroups.detect()
    except OSError as err:
        return str(err)
    return None


def create(settings: Settings, work: Path) -> NamespacesSandbox:
    return NamespacesSandbox(NamespacesConfig.from_settings(settings, work))


__all__ = ["NamespacesConfig", "NamespacesSandbox", "create", "unavailable_reason"]
