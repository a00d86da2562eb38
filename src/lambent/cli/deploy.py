"""`lambent deploy DIR`: zip a folder, then create the function or update it in place.

An update changes the configuration first and the code second, so that `--publish` (sent
with the code) publishes a version that has both. Only fields that differ from the current
configuration are sent: an unchanged deploy costs no configuration update at all.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lambent.cli import functions
from lambent.cli.archive import build_zip
from lambent.cli.client import AwsClient
from lambent.cli.errors import UsageError
from lambent.cli.progress import StatusLine, human_bytes
from lambent.cli.roles import ensure_default_role
from lambent.cli.waiting import wait_until_ready


@dataclass(frozen=True)
class DeploySpec:
    directory: Path
    name: str
    runtime: str | None
    handler: str | None
    memory: int | None = None
    timeout: int | None = None
    role: str | None = None
    environment: dict[str, str] | None = None
    # Layer version ARNs in order; None: leave the function's layers as they are.
    layers: list[str] | None = None
    publish: bool = False
    wait_s: float = 300.0


def parse_env(pairs: Sequence[str] | None) -> dict[str, str] | None:
    """`K=V` flags as the Environment.Variables map; None when no `--env` was given."""
    if pairs is None:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--env expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def configuration_changes(current: Mapping[str, Any], spec: DeploySpec) -> dict[str, Any]:
    """The UpdateFunctionConfiguration members that would move `current` to `spec`."""
    wanted: dict[str, Any] = {
        "Runtime": spec.runtime,
        "Handler": spec.handler,
        "MemorySize": spec.memory,
        "Timeout": spec.timeout,
        "Role": spec.role,
    }
    changes = {k: v for k, v in wanted.items() if v is not None and current.get(k) != v}
    current_layers = [layer.get("Arn") for layer in current.get("Layers") or []]
    if spec.layers is not None and current_layers != spec.layers:
        changes["Layers"] = spec.layers
    if spec.environment is not None:
        variables = (current.get("Environment") or {}).get("Variables") or {}
        if variables != spec.environment:
            changes["Environment"] = {"Variables": spec.environment}
    return changes


def create_request(spec: DeploySpec, role: str) -> dict[str, Any]:
    missing = [
        flag for flag, v in (("--runtime", spec.runtime), ("--handler", spec.handler)) if not v
    ]
    if missing:
        raise UsageError(
            f"function {spec.name} does not exist yet; creating it needs {' and '.join(missing)}"
        )
    request: dict[str, Any] = {
        "FunctionName": spec.name,
        "Runtime": spec.runtime,
        "Handler": spec.handler,
        "Role": role,
        "Publish": spec.publish,
    }
    if spec.memory is not None:
        request["MemorySize"] = spec.memory
    if spec.timeout is not None:
        request["Timeout"] = spec.timeout
    if spec.environment is not None:
        request["Environment"] = {"Variables": spec.environment}
    if spec.layers:
        request["Layers"] = spec.layers
    return request


def deploy(client: AwsClient, spec: DeploySpec, status: StatusLine, out: TextIO) -> int:
    zip_bytes = build_zip(spec.directory)
    current = functions.get_configuration(client, spec.name)

    def fetch() -> dict[str, Any]:
        config = functions.get_configuration(client, spec.name)
        if config is None:
            raise UsageError(f"function {spec.name} disappeared while deploying")
        return config

    def settle(first: dict[str, Any] | None = None) -> dict[str, Any]:
        return wait_until_ready(spec.name, fetch, status, timeout_s=spec.wait_s, first=first)

    if current is None:
        role = spec.role or ensure_default_role(client)
        answer = functions.create_function(
            client, create_request(spec, role), zip_bytes, status.upload
        )
        status.clear()
        verb = "created"
    else:
        settle(current)
        changes = configuration_changes(current, spec)
        if changes:
            functions.update_configuration(client, spec.name, changes)
            settle()
        answer = functions.update_code(
            client, spec.name, zip_bytes, publish=spec.publish, progress=status.upload
        )
        status.clear()
        verb = "updated"
    final = settle()
    report(out, verb, spec.name, final, answer, zip_bytes)
    return 0


def report(
    out: TextIO,
    verb: str,
    name: str,
    final: Mapping[str, Any],
    answer: Mapping[str, Any],
    zip_bytes: bytes,
) -> None:
    size = int(final.get("CodeSize") or len(zip_bytes))
    sha = final.get("CodeSha256") or local_code_sha256(zip_bytes)
    out.write(f"{verb} {name} ({final.get('Runtime')}, {final.get('Handler')})\n")
    out.write(f"FunctionArn  {final.get('FunctionArn')}\n")
    out.write(f"CodeSha256   {sha}\n")
    out.write(f"CodeSize     {size} ({human_bytes(size)})\n")
    version = answer.get("Version")
    if version and version != "$LATEST":
        out.write(f"Version      {version}\n")
    out.flush()


def local_code_sha256(zip_bytes: bytes) -> str:
    """CodeSha256 as Lambda computes it: base64 of the zip's SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
