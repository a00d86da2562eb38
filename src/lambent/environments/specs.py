"""What a function version's template is made of: its runtime, code, layers, variables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lambent.blobs.store import BlobStore
from lambent.functions.model import FunctionVersion
from lambent.runtimes import environment as runtime_env
from lambent.runtimes.registry import (
    RUNTIME_DIR,
    guest_dir,
    launch_for,
    node_sdk_dir,
    with_function_options,
)
from lambent.sandbox.interface import RuntimeLaunch, TemplateSpec


def template_spec(
    version: FunctionVersion, blobs: BlobStore, python_sdk_dir: Path | None
) -> TemplateSpec:
    launch = with_function_options(launch_for(version.runtime), version.environment)
    sdk = python_sdk_dir
    if launch.kind == "python" and sdk is not None:
        # Lambda's Python runtimes ship boto3; ours come from the SDK directory.
        launch = dataclasses.replace(launch, host_paths=(*launch.host_paths, str(sdk)))
    base = runtime_env.version_environment(
        launch=launch,
        function_name=version.function_name,
        version=version.version,
        memory_mb=version.memory_mb,
        handler=version.handler,
        region=version.region,
        log_group=version.log_group or None,
        function_variables=version.environment,
        initialization_type="snap-start" if version.snapstart else "on-demand",
        log_format=version.log_format,
        application_log_level=version.application_log_level,
    )
    if launch.kind == "python" and sdk is not None:
        base["PYTHONPATH"] = f"{base.get('PYTHONPATH', '')}:{sdk}".lstrip(":")
    if launch.kind == "node":
        launch = _with_node_sdk(launch, base)
    return TemplateSpec(
        key=version.key,
        account_id=version.account_id,
        function_name=version.function_name,
        version=version.version,
        launch=launch,
        handler=version.handler,
        code_dir=blobs.extracted(version.code_sha256_hex),
        layer_dirs=tuple(blobs.extracted(ly.code_sha256_hex) for ly in version.layers),
        guest_dir=guest_dir(),
        network="none" if version.network == "none" else "egress",
        snapstart=version.snapstart,
        memory_mb=version.memory_mb,
        ephemeral_mb=version.ephemeral_mb,
        base_env=base,
    )


def _with_node_sdk(launch: RuntimeLaunch, base: dict[str, str]) -> RuntimeLaunch:
    """Lambda's Node runtimes ship the AWS SDK for JavaScript v3 in
    /var/runtime/node_modules (on NODE_PATH); ours comes from the runtime's image."""
    sdk = node_sdk_dir(launch.name)
    if not sdk.is_dir():
        return launch
    if "NODE_PATH" in base:
        base["NODE_PATH"] = base["NODE_PATH"].replace(f"{RUNTIME_DIR}/node_modules", str(sdk))
    return dataclasses.replace(launch, host_paths=(*launch.host_paths, str(sdk)))
