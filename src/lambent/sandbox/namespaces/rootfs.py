"""The plan of a runtime's root filesystem (its zygote executes it, see sandbox_root.py).

Only what runtimes need is visible, read-only, and no host directory appears under its
host name: /usr and the merged-usr links (/bin, /lib, /lib64, /sbin), a synthetic /etc (no
shadow, no host users, no host configuration beyond CA certificates, alternatives links and
the dynamic linker cache), the runtime's image at /var/lang (its `runtime/` merged into
/var/runtime), Lambent's guest code at /var/runtime, /lambda-entrypoint.sh and a handful of
device nodes. A function's code (/var/task) and layers (/opt) are not part of it: each
version's template mounts its own (see mounts.py), so one root serves every function of a
runtime.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from lambent.runtimes.images import IMAGE_LANG, IMAGE_RUNTIME
from lambent.sandbox.interface import TemplateSpec
from lambent.sandbox.namespaces.network import HOST_ADDRESS, HOST_NAME

BASE_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_BINDS = ("/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/ld.so.cache")
DEVICES = ("null", "zero", "full", "random", "urandom")
MOUNTPOINTS = (
    "/proc",
    "/tmp",
    "/var/task",
    "/var/runtime",
    "/opt",
    "/dev",
    "/etc",
    "/home/sbx_user1051",
    "/root",
)

LANG_MOUNT = "/var/lang"
ENTRYPOINT = "/lambda-entrypoint.sh"

PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "sbx_user1051:x:993:990::/home/sbx_user1051:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = "root:x:0:\nsbx_user1051:x:990:\nnogroup:x:65534:\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nservices: files\n"


def resolv_conf(host_text: str) -> str:
    """The host's nameservers; a loopback resolver is reached through the host address."""
    lines = []
    for line in host_text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            server = parts[1]
            if server.startswith("127.") or server == "::1":
                server = HOST_ADDRESS
            lines.append(f"nameserver {server}")
        elif parts and parts[0] in ("search", "options"):
            lines.append(line)
    return "\n".join(lines) + "\n"


def entrypoint_script(argv: tuple[str, ...]) -> str:
    """/lambda-entrypoint.sh, as Lambda's images have one: runs this runtime with the
    handler given as its only argument (the way a container image's CMD names it)."""
    command = " ".join(shlex.quote(a) for a in argv)
    return (
        "#!/bin/sh\n"
        "# Lambent: start this runtime with the handler given as the only argument.\n"
        "if [ $# -ne 1 ]; then\n"
        '  echo "usage: /lambda-entrypoint.sh <handler>" 1>&2\n'
        "  exit 142\n"
        "fi\n"
        'export _HANDLER="$1"\n'
        f"exec {command}\n"
    )


def plan(
    spec: TemplateSpec, staging: Path, etc_resolv: str | None = None, owner: int | None = None
) -> dict[str, Any]:
    """`owner`: the host uid the root's own files and directories belong to (the sandbox's
    root, root inside environments); None: the builder's (host root)."""
    symlinks: list[list[str]] = [
        ["/etc/localtime", "/usr/share/zoneinfo/Etc/UTC"],
        ["/etc/os-release", "../usr/lib/os-release"],
        ["/dev/fd", "/proc/self/fd"],
        ["/dev/stdin", "/proc/self/fd/0"],
        ["/dev/stdout", "/proc/self/fd/1"],
        ["/dev/stderr", "/proc/self/fd/2"],
    ]
    binds: list[list[str]] = []
    for path in BASE_PATHS:
        if os.path.islink(path):
            symlinks.append([path, os.readlink(path)])
        elif os.path.isdir(path):
            binds.append([path, path])
    for path in ETC_BINDS:
        if os.path.exists(path):
            binds.append([path, path])
    dirs = list(MOUNTPOINTS)
    overlays: list[list[Any]] = []
    image = spec.launch.image
    runtime_layers = [str(spec.guest_dir)]
    if image is not None:
        dirs.append(LANG_MOUNT)
        binds.append([str(image / IMAGE_LANG), LANG_MOUNT])
        if (image / IMAGE_RUNTIME).is_dir():
            runtime_layers.append(str(image / IMAGE_RUNTIME))
    if len(runtime_layers) == 1:
        binds.append([runtime_layers[0], "/var/runtime"])
    else:  # Lambent's runtime client on top of the image's (its SDK, say)
        overlays.append(["/var/runtime", runtime_layers])
    if etc_resolv is None:
        try:
            etc_resolv = Path("/etc/resolv.conf").read_text()
        except OSError:
            etc_resolv = ""
    files = [
        ["/etc/passwd", PASSWD, 0o644],
        ["/etc/group", GROUP, 0o644],
        ["/etc/nsswitch.conf", NSSWITCH, 0o644],
        ["/etc/hostname", "localhost\n", 0o644],
        ["/etc/hosts", f"127.0.0.1 localhost\n::1 localhost\n{HOST_ADDRESS} {HOST_NAME}\n", 0o644],
        ["/etc/resolv.conf", resolv_conf(etc_resolv), 0o644],
        [ENTRYPOINT, entrypoint_script(spec.launch.argv), 0o755],
    ]
    return {
        "staging": str(staging),
        "dirs": dirs,
        "symlinks": symlinks,
        "files": files,
        "devices": [[f"/dev/{name}", f"/dev/{name}"] for name in DEVICES],
        "binds": binds,
        "overlays": overlays,
        "owner": owner,
    }
