"""Build a runtime's root filesystem from the host's plan, then pivot into it.

Runs once per runtime zygote, as root, in its own fresh mount namespace: a small tmpfs
root, read-only bind mounts of the system paths runtimes need, synthetic /etc files, a
few device nodes, the runtime's image at /var/lang and the guest at /var/runtime (a
read-only overlay when the image adds its own runtime files). The host's root is then detached, so
nothing else of the host is reachable by path. Each version's template adds its code at
/var/task and layers at /opt, in a copy of this namespace (version_template.launch).
"""

from __future__ import annotations

import os
from typing import Any

from . import linux

RO_FLAGS = linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV


def build(plan: dict[str, Any]) -> None:
    root = str(plan["staging"])
    linux.unshare(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    linux.mount("tmpfs", root, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "mode=755,size=16m")
    for path in plan["dirs"]:
        os.makedirs(root + path, mode=0o755, exist_ok=True)
    for path, target in plan["symlinks"]:
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        os.symlink(target, root + path)
    for path, content, mode in plan["files"]:
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        with open(root + path, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.chmod(root + path, mode)
    owner = plan.get("owner")
    if owner is not None:
        _chown_tree(root, int(owner))
    for source, target in plan["devices"]:
        _bind(source, root + target)
        linux.mount(
            None,
            root + target,
            None,
            linux.MS_REMOUNT | linux.MS_BIND | linux.MS_NOSUID | linux.MS_NOEXEC,
        )
    for source, target in plan["binds"]:
        _bind(source, root + target)
        linux.mount(None, root + target, None, RO_FLAGS)
    for target, lowers in plan.get("overlays", ()):
        # Several directories merged read-only; overlayfs lists the top one first.
        os.makedirs(root + target, exist_ok=True)
        linux.mount(
            "overlay",
            root + target,
            "overlay",
            linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV,
            "lowerdir=" + ":".join(lowers),
        )
    os.chdir(root)
    linux.pivot_root(".", ".")
    linux.umount(".", linux.MNT_DETACH)
    os.chdir("/")
    linux.mount(None, "/", None, RO_FLAGS)


def _chown_tree(root: str, owner: int) -> None:
    """Everything the root holds of its own (before any mount lands on it) belongs to the
    sandbox's root, which environments see as root (see idmap.py on the host side)."""
    for here, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.lchown(os.path.join(here, name), owner, owner)
    os.lchown(root, owner, owner)


def _bind(source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            with open(target, "w", encoding="utf-8"):
                pass
    linux.mount(source, target, None, linux.MS_BIND)
