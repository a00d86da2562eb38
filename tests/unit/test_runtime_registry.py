"""The runtime registry: what `launch_for` tells the sandbox, checked against the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lambent.api.errors import status_of
from lambent.errors import InvalidParameterValue, InvalidRuntime
from lambent.runtimes import registry
from lambent.runtimes.images import default_images_dir
from lambent.runtimes.registry import (
    NODE_BOOTSTRAP,
    PYTHON_BOOTSTRAP,
    SUPPORTED_RUNTIMES,
    available_runtimes,
    custom_bootstrap,
    guest_dir,
    launch_for,
    missing_bootstrap_error,
)
from lambent.sandbox.interface import RuntimeLaunch

# What every sandbox exposes read-only, besides the runtime's image.
BASE_PATHS = ("/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/etc/")
PYTHONS = [r for r in available_runtimes() if r.startswith("python")]


def test_supported_runtimes() -> None:
    assert SUPPORTED_RUNTIMES == (
        "python3.10",
        "python3.11",
        "python3.12",
        "python3.13",
        "python3.14",
        "nodejs20.x",
        "nodejs22.x",
        "nodejs24.x",
        "provided.al2023",
    )
    assert {"python3.11", "nodejs20.x", "nodejs22.x", "nodejs24.x", "provided.al2023"} <= set(
        available_runtimes()
    )


@pytest.mark.parametrize("runtime", PYTHONS)
def test_python_runtimes_run_from_their_image_at_var_lang(runtime: str) -> None:
    launch = launch_for(runtime)
    assert launch.kind == "python"
    assert launch.interpreter == f"/var/lang/bin/{runtime}"
    assert launch.argv == (launch.interpreter, PYTHON_BOOTSTRAP)
    assert PYTHON_BOOTSTRAP == "/var/runtime/lambent_guest/bootstrap.py"
    assert launch.image == default_images_dir() / runtime
    assert (launch.image / "lang" / "bin" / runtime).is_file()
    assert launch.execution_env == f"AWS_Lambda_{runtime}"


def _mapped_files(argv: list[str]) -> set[str]:
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=30).stdout
    files = set()
    for line in out.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/") and not parts[5].startswith("/dev/"):
            files.add(parts[5])
    return files


def _on_host(launch: RuntimeLaunch) -> str:
    """The interpreter's path on the host: /var/lang is the image's lang/ directory."""
    assert launch.interpreter is not None and launch.image is not None
    return launch.interpreter.replace("/var/lang", str(launch.image / "lang"))


PY_PROBE = "import ssl, json, decimal, sqlite3, ctypes, zlib; print(open('/proc/self/maps').read())"


@pytest.mark.parametrize("runtime", PYTHONS)
def test_python_interpreters_need_only_their_image_and_system_paths(runtime: str) -> None:
    """Every file the interpreter maps (libpython, stdlib extension modules, shared
    libraries) lies under the sandbox's system paths or the runtime's image (which the
    sandbox mounts at /var/lang). env -i: no LD_LIBRARY_PATH, a pyenv build's libpython is
    found next to the executable."""
    launch = launch_for(runtime)
    assert launch.image is not None
    files = _mapped_files(["env", "-i", _on_host(launch), "-c", PY_PROBE])
    assert files, "no mapped files seen"
    allowed = (*BASE_PATHS, f"{launch.image / 'lang'}/")
    assert {f for f in files if not f.startswith(allowed)} == set()


NODE_MAJORS = {"nodejs20.x": "20", "nodejs22.x": "22", "nodejs24.x": "24"}


@pytest.mark.parametrize("runtime", list(NODE_MAJORS))
def test_each_node_runtime_runs_on_its_own_major(runtime: str) -> None:
    """Regression (issue 8 §1.7): nodejs22.x ran on the host's Node 20."""
    launch = launch_for(runtime)
    assert launch.kind == "node"
    assert launch.interpreter == "/var/lang/bin/node"
    assert launch.image == default_images_dir() / runtime
    assert launch.execution_env == f"AWS_Lambda_{runtime}"
    node = _on_host(launch)
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert version.startswith(f"v{NODE_MAJORS[runtime]}.")
    files = _mapped_files(
        [node, "-e", "process.stdout.write(require('fs').readFileSync('/proc/self/maps'))"]
    )
    allowed = (*BASE_PATHS, f"{launch.image / 'lang'}/")
    assert {f for f in files if not f.startswith(allowed)} == set()


@pytest.mark.parametrize(
    ("runtime", "disabled"),
    [
        ("nodejs20.x", ("--no-experimental-require-module",)),
        ("nodejs22.x", ("--no-experimental-require-module", "--no-experimental-detect-module")),
        ("nodejs24.x", ()),
    ],
)
def test_node_starts_with_awss_flags(runtime: str, disabled: tuple[str, ...]) -> None:
    launch = launch_for(runtime)
    assert launch.argv[1:] == (
        "--expose-gc",
        "--max-http-header-size=81920",
        *disabled,
        NODE_BOOTSTRAP,
    )


def test_node_options_reenable_a_disabled_feature() -> None:
    """Lambda drops its disabling flag when NODE_OPTIONS names the re-enabling one."""
    launch = registry.with_function_options(
        launch_for("nodejs22.x"),
        {"NODE_OPTIONS": "--enable-source-maps --experimental-require-module"},
    )
    assert "--no-experimental-require-module" not in launch.argv
    assert "--no-experimental-detect-module" in launch.argv


@pytest.mark.parametrize("runtime", list(NODE_MAJORS))
def test_node_sdk_is_installed(runtime: str) -> None:
    """`make install` provides the AWS SDK for JavaScript v3 the Node runtimes offer."""
    image = launch_for(runtime).image
    assert image is not None
    sdk = image / "runtime" / "node_modules"  # /var/runtime/node_modules inside
    for client in (
        "lambda",
        "s3",
        "sqs",
        "sns",
        "sts",
        "dynamodb",
        "eventbridge",
        "cloudwatch-logs",
    ):
        assert (sdk / "@aws-sdk" / f"client-{client}" / "package.json").is_file(), client


def test_provided_runs_the_functions_bootstrap() -> None:
    launch = launch_for("provided.al2023")
    assert launch.kind == "provided"
    assert launch.argv == ("/var/task/bootstrap",)
    assert launch.interpreter is None
    assert launch.execution_env == ""  # AWS sets no AWS_EXECUTION_ENV for OS-only runtimes


def test_unknown_runtime_is_rejected_as_aws_does() -> None:
    with pytest.raises(InvalidParameterValue) as err:
        launch_for("python2.7")
    assert err.value.message == (
        "The runtime parameter of python2.7 is no longer supported for creating or updating "
        "AWS Lambda functions. We recommend you use a supported runtime while creating or "
        "updating functions."
    )


def test_runtime_without_its_image_is_unavailable(tmp_path: Path) -> None:
    for runtime in ("python3.13", "nodejs22.x"):
        assert runtime not in available_runtimes(tmp_path)
        with pytest.raises(InvalidRuntime, match=rf"{runtime} is not available") as err:
            launch_for(runtime, tmp_path)
        assert "its runtime image is not installed" in err.value.message
        assert err.value.code == "InvalidRuntimeException"
        assert status_of(err.value) == 502
    # a half-built image (no manifest yet) is not an image
    (tmp_path / "python3.13" / "lang").mkdir(parents=True)
    assert "python3.13" not in available_runtimes(tmp_path)


def test_python314_is_known_even_where_its_interpreter_is_missing() -> None:
    assert "python3.14" in registry.SUPPORTED_RUNTIMES
    spec = registry.spec_for("python3.14")
    assert spec.kind == "python" and spec.language_version == "3.14"


def test_guest_dir_holds_the_bootstraps() -> None:
    root = guest_dir()
    assert (root / "lambent_guest" / "bootstrap.py").is_file()
    assert (root / "node" / "index.mjs").is_file()
    assert (root / "snapshot_restore_py.py").is_file()
    assert PYTHON_BOOTSTRAP.replace("/var/runtime", str(root)) == str(
        root / "lambent_guest" / "bootstrap.py"
    )
    assert NODE_BOOTSTRAP.replace("/var/runtime", str(root)) == str(root / "node" / "index.mjs")


def test_custom_bootstrap_lookup_order(tmp_path: Path) -> None:
    task, opt = tmp_path / "task", tmp_path / "opt"
    task.mkdir()
    opt.mkdir()
    assert custom_bootstrap(task, opt) is None
    (opt / "bootstrap").write_text("#!/bin/sh\n")
    assert custom_bootstrap(task, opt) == "/opt/bootstrap"
    (task / "bootstrap").write_text("#!/bin/sh\n")
    assert custom_bootstrap(task, opt) == "/var/task/bootstrap"
    assert missing_bootstrap_error() == (
        "Runtime.InvalidEntrypoint",
        "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    )
