"""A version's own mounts (/var/task and /opt), made by the host as detached mounts.

The runtime's zygote lives in a root where the host's tree is gone, so it cannot bind a
host directory itself. The host therefore makes each mount here, in its own mount namespace
but attached nowhere (open_tree OPEN_TREE_CLONE, or fsopen/fsmount for several layers),
read-only, nosuid and nodev, and hands the fds over; the template moves them onto /var/task and
/opt in its copy of the runtime's root (version_template.launch). They appear
in no mount table of the host, and go away with the last namespace that holds them.
"""

from __future__ import annotations

import contextlib
import os

from lambent.guest.lambent_guest import linux
from lambent.sandbox.interface import TemplateSpec

READ_ONLY = linux.MOUNT_ATTR_RDONLY | linux.MOUNT_ATTR_NOSUID | linux.MOUNT_ATTR_NODEV


def version_mounts(spec: TemplateSpec, idmap: int | None = None) -> dict[str, int]:
    """{"task": fd, "opt": fd (with layers)}; the caller closes them once sent. `idmap`:
    a user namespace fd whose mapping the mounts take (idmap.py: files owned by root on
    disk appear owned by the sandbox's root, which environments see as root)."""
    made: dict[str, int] = {}
    try:
        made["task"] = _read_only_clone(str(spec.code_dir), idmap)
        if len(spec.layer_dirs) == 1:
            made["opt"] = _read_only_clone(str(spec.layer_dirs[0]), idmap)
        elif spec.layer_dirs:
            made["opt"] = _overlay(spec, idmap)
    except BaseException:
        for fd in made.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        raise
    return made


def _overlay(spec: TemplateSpec, idmap: int | None) -> int:
    """One read-only overlayfs of the layers; overlayfs takes the top layer first, and
    Lambda's later layers win. An overlay cannot itself be idmapped, its layers can: each
    is an idmapped clone, named by its fd."""
    paths = [str(p) for p in reversed(spec.layer_dirs)]
    if idmap is None:
        return linux.fsmount_overlay(paths, READ_ONLY)
    clones: list[int] = []
    try:
        for path in paths:
            clones.append(_read_only_clone(path, idmap))
        return linux.fsmount_overlay([f"/proc/self/fd/{fd}" for fd in clones], READ_ONLY)
    finally:
        for fd in clones:
            os.close(fd)


def _read_only_clone(path: str, idmap: int | None) -> int:
    fd = linux.open_tree(path, linux.OPEN_TREE_CLONE | linux.OPEN_TREE_CLOEXEC)
    try:
        linux.mount_setattr(fd, READ_ONLY, idmap)
    except BaseException:
        os.close(fd)
        raise
    return fd
