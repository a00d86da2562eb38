"""Build the runtime images (images.py) at install time: `make install` runs
`python -m lambent.runtimes.build_images --dest .venv/runtimes`.

A Python image is the host interpreter's installation re-rooted at /var/lang:

  * a pyenv build: its whole prefix (bin, include, lib, share) minus the host's own
    site-packages and the test suite; `_sysconfigdata` is rewritten to say /var/lang and
    the executable finds libpython relative to itself;
  * Debian's /usr/bin/python3.X: the executable at bin/ and /usr/lib/python3.X at lib/
    (minus Debian's dist-packages hooks, which point into the host's /etc);
  * boto3 and botocore (pinned below) in lib/python3.X/site-packages, compiled to
    bytecode by that runtime's own interpreter, because environments run with -B on a
    read-only tree and would otherwise recompile boto3 at every cold start (~9 s).

Files are hard links to the host's where the filesystem allows (no space, a consistent
snapshot of the installation), else copies. Nothing under the host's trees is modified:
new bytecode and rewritten files replace directory entries of the image only.

An image is rebuilt only when what it was made from changed (its manifest records the
interpreter, its version, the SDK pins and this builder's version), and appears atomically
(built beside, then renamed), so a half-built image is never used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lambent.runtimes.images import IMAGE_LANG, LANG_DIR, MANIFEST, default_images_dir
from lambent.runtimes.registry import guest_dir, runtime_specs

BUILDER_VERSION = 2
# The AWS SDK for Python that every Python image ships, as Lambda's runtimes do.
PYTHON_SDK = ("boto3==1.43.11", "botocore==1.43.11")
PYENV_VERSIONS = Path("/root/.pyenv/versions")
SDK_STAGING = ".python-sdk"


@dataclass(frozen=True)
class HostPython:
    """One Python installation on this host, the source of a runtime image."""

    minor: str  # "3.12"
    interpreter: Path
    prefix: Path | None  # a self-contained prefix (pyenv); None: Debian's /usr layout

    def identity(self) -> str:
        """What the image depends on: the interpreter's exact build."""
        out = subprocess.run(
            [str(self.interpreter), "-I", "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return f"{self.interpreter} {out.stdout.strip()}"


def host_python(minor: str) -> HostPython | None:
    """Debian's interpreter if the system has this version, else the newest real pyenv
    build of it (never a version manager's shim), else None."""
    system = Path(f"/usr/bin/python{minor}")
    if system.is_file() and Path(f"/usr/lib/python{minor}/os.py").is_file():
        return HostPython(minor, system, None)
    builds = sorted(
        PYENV_VERSIONS.glob(f"{minor}.*/bin/python{minor}"),
        key=lambda p: tuple(int(x) for x in p.parent.parent.name.split(".") if x.isdigit()),
    )
    if not builds:
        return None
    return HostPython(minor, builds[-1], builds[-1].parent.parent)


# -- tree cloning ------------------------------------------------------------------------


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:  # another filesystem, or links refused: a copy
        shutil.copy2(source, target, follow_symlinks=False)


def clone_tree(source: Path, target: Path, skip: frozenset[str] = frozenset()) -> None:
    """`source` re-created at `target`: directories anew (same modes), files hard-linked
    (or copied), symlinks kept when they stay inside `source` (a link out of the tree
    would point at a host path, or at nothing, inside an environment). `skip` names paths
    relative to `source` whose contents are left out (the directory itself is kept)."""
    source = source.resolve()
    for here, dirs, files in os.walk(source):
        rel = os.path.relpath(here, source)
        dest = target if rel == "." else target / rel
        dest.mkdir(parents=True, exist_ok=True)
        os.chmod(dest, os.stat(here).st_mode & 0o7777)
        if rel in skip:
            dirs.clear()
            continue
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(here, d)))]:
            path = os.path.join(here, name)
            if os.path.islink(path):
                _keep_link(source, path, str(dest / name))
            else:
                _link_or_copy(path, str(dest / name))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(here, d))]


def _keep_link(source: Path, path: str, target: str) -> None:
    link = os.readlink(path)
    resolved = os.path.realpath(path)
    if os.path.isabs(link) or not resolved.startswith(str(source) + os.sep):
        return
    os.symlink(link, target)


def compile_tree(interpreter: Path, *paths: Path) -> None:
    """Bytecode for `interpreter`'s version, next to the sources (timestamp-checked)."""
    subprocess.run(
        [str(interpreter), "-I", "-m", "compileall", "-q", "-j", "0", *map(str, paths)],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=1800,
    )


# -- Python images ---------------------------------------------------------------------


def install_python_sdk(staging: Path) -> None:
    """boto3 and its dependencies, pure Python, without bytecode (each runtime adds its
    own), installed once and hard-linked into every Python image."""
    if staging.exists():
        shutil.rmtree(staging)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",
            "--no-compile",
            "--target",
            str(staging),
            *PYTHON_SDK,
        ],
        check=True,
        timeout=1800,
    )


def build_python_lang(host: HostPython, lang: Path, sdk: Path) -> None:
    minor = host.minor
    stdlib = f"lib/python{minor}"
    rewritten: list[Path] = []
    if host.prefix is not None:
        clone_tree(host.prefix, lang, frozenset({f"{stdlib}/site-packages", f"{stdlib}/test"}))
        rewritten = _rewrite_sysconfigdata(lang / stdlib, str(host.prefix))
        _relative_runpath(lang / "bin" / f"python{minor}")
    else:
        (lang / "bin").mkdir(parents=True)
        _link_or_copy(str(host.interpreter), str(lang / "bin" / f"python{minor}"))
        os.symlink(f"python{minor}", lang / "bin" / "python3")
        clone_tree(Path(f"/usr/lib/python{minor}"), lang / stdlib, frozenset({"test"}))
        # Debian's hooks into the host's /etc (apport, dist-packages), dangling inside.
        (lang / stdlib / "sitecustomize.py").unlink(missing_ok=True)
    site = lang / stdlib / "site-packages"
    if site.exists():
        shutil.rmtree(site)
    clone_tree(sdk, site)
    compile_tree(lang / "bin" / f"python{minor}", site, *rewritten)


def _relative_runpath(executable: Path) -> None:
    """A pyenv interpreter finds libpython through a RUNPATH naming its host prefix, which
    does not exist inside. The image gets its own copy of the executable, told to look
    next to itself ($ORIGIN/../lib = /var/lang/lib), so a `python3` subprocess works even
    where a function replaced LD_LIBRARY_PATH. Without patchelf the link stays and
    LD_LIBRARY_PATH (AWS's value starts with /var/lang/lib) does the same job."""
    patchelf = shutil.which("patchelf")
    if patchelf is None:
        print("build_images: patchelf missing; libpython found through LD_LIBRARY_PATH only")
        return
    copy = executable.with_name(executable.name + ".new")
    shutil.copy2(executable, copy)
    subprocess.run([patchelf, "--set-rpath", "$ORIGIN/../lib", str(copy)], check=True, timeout=60)
    copy.replace(executable)


def _rewrite_sysconfigdata(stdlib: Path, prefix: str) -> list[Path]:
    """The build-time configuration names the host prefix; Lambda's says /var/lang. The
    hard link is replaced by a new file, never written through."""
    changed = []
    for path in stdlib.glob("_sysconfigdata_*.py"):
        text = path.read_text()
        if prefix in text:
            path.unlink()
            path.write_text(text.replace(prefix, LANG_DIR))
            changed.append(path)
    return changed


# -- driver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    runtime: str
    manifest: dict[str, object]
    build: Callable[[Path], None]  # fills <image>/lang (and <image>/runtime)


def python_plans(dest: Path) -> list[Plan]:
    plans = []
    staging = dest / SDK_STAGING
    for spec in runtime_specs():
        if spec.kind != "python":
            continue
        host = host_python(spec.language_version)
        if host is None:
            continue
        manifest: dict[str, object] = {
            "runtime": spec.name,
            "builder": BUILDER_VERSION,
            "source": host.identity(),
            "sdk": list(PYTHON_SDK),
        }

        def build(image: Path, host: HostPython = host) -> None:
            if not staging.is_dir():
                install_python_sdk(staging)
            build_python_lang(host, image / IMAGE_LANG, staging)
            compile_tree(host.interpreter, guest_dir())

        plans.append(Plan(spec.name, manifest, build))
    return plans


def up_to_date(image: Path, manifest: dict[str, object]) -> bool:
    try:
        return bool(json.loads((image / MANIFEST).read_text()) == manifest)
    except (OSError, ValueError):
        return False


def build_all(dest: Path, plans: list[Plan], *, force: bool = False) -> list[str]:
    """Build every image that is missing or stale; returns the runtimes built."""
    dest.mkdir(parents=True, exist_ok=True)
    built = []
    for plan in plans:
        image = dest / plan.runtime
        if not force and up_to_date(image, plan.manifest):
            continue
        fresh = dest / f".{plan.runtime}.building"
        old = dest / f".{plan.runtime}.old"
        for leftover in (fresh, old):
            if leftover.exists():
                shutil.rmtree(leftover)
        fresh.mkdir()
        plan.build(fresh)
        (fresh / MANIFEST).write_text(json.dumps(plan.manifest, indent=2) + "\n")
        if image.exists():
            image.rename(old)
        fresh.rename(image)
        if old.exists():
            shutil.rmtree(old)
        built.append(plan.runtime)
    staging = dest / SDK_STAGING
    if staging.exists():
        shutil.rmtree(staging)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build Lambent's runtime images")
    parser.add_argument("--dest", type=Path, default=default_images_dir())
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    plans = python_plans(dest)
    built = build_all(dest, plans, force=args.force)
    for plan in plans:
        state = "built" if plan.runtime in built else "up to date"
        print(f"runtime image {plan.runtime}: {state} ({dest / plan.runtime})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
