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
  * nodejs20.x and nodejs22.x -> /usr/bin/node (Node 20). nodejs22.x runs on Node 20 too:
    Lambent's Node bootstrap uses nothing Node 22 added, and handlers written for 22 rarely
    do. `execution_env` still says AWS_Lambda_nodejs22.x, as AWS reports it.
  * provided.al2023 -> the function's own executable `bootstrap` (/var/task/bootstrap, or
    /opt/bootstrap from a layer, as Lambda looks for it).

The Python and Node bootstraps live in `guest_dir()`, which every environment sees
read-only at /var/runtime (LAMBDA_RUNTIME_DIR).
"""

from __future__ import annotations

import functools
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

RuntimeKind = Literal["python", "node", "provided"]


@dataclass(frozen=True)
class RuntimeSpec:
    """The static facts about one runtime; `launch_for` turns them into a RuntimeLaunch."""

    name: str
    kind: RuntimeKind
    interpreter: str | None = None
    # Installation prefix that must be visible inside the sandbox (None: under /usr).
    prefix: str | None = None
    language_version: str = ""  # "3.12" for Python, "20" for Node

    @property
    def execution_env(self) -> str:
        """AWS_EXECUTION_ENV; AWS leaves it unset for the OS-only (provided) runtimes."""
        return "" if self.kind == "provided" else f"AWS_Lambda_{self.name}"


PYENV_VERSIONS = Path("/root/.pyenv/versions")
# Python runtimes AWS supports today, and where this host may have their interpreter.
PYTHON_RUNTIMES = ("3.11", "3.12", "3.13", "3.14")


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
        RuntimeSpec("nodejs20.x", "node", "/usr/bin/node", None, "20"),
        RuntimeSpec("nodejs22.x", "node", "/usr/bin/node", None, "22"),
        RuntimeSpec("provided.al2023", "provided"),
    )


SUPPORTED_RUNTIMES: tuple[str, ...] = (
    *(f"python{minor}" for minor in PYTHON_RUNTIMES),
    "nodejs20.x",
    "nodejs22.x",
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


def launch_for(runtime: str) -> RuntimeLaunch:
    """How to start `runtime`; raises InvalidParameterValue if it cannot run here."""
    spec = spec_for(runtime)
    if not is_available(runtime):
        raise InvalidRuntime(
            f"The runtime parameter of {runtime} is not available on this Lambent host: "
            f"its interpreter {spec.interpreter} is not installed."
        )
    host_paths = (spec.prefix,) if spec.prefix else ()
    if spec.kind == "python":
        assert spec.interpreter is not None
        argv: tuple[str, ...] = (spec.interpreter, PYTHON_BOOTSTRAP)
    elif spec.kind == "node":
        assert spec.interpreter is not None
        argv = (spec.interpreter, *NODE_FLAGS, NODE_BOOTSTRAP)
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
