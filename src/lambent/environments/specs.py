"""What a function version's template is made of: its runtime, code, layers, variables."""

from __future__ import annotations

from pathlib import Path

from lambent.blobs.store import BlobStore
from lambent.functions.model import FunctionVersion
from lambent.runtimes import environment as runtime_env
from lambent.runtimes.registry import guest_dir, launch_for, with_function_options
from lambent.sandbox.interface import TemplateSpec


def template_spec(
    version: FunctionVersion,
    blobs: BlobStore,
    runtime_images: Path | None,
    endpoint_url: str | None = None,
) -> TemplateSpec:
    """`runtime_images`: where the runtime images are (None: next to this interpreter).
    The runtime's interpreter and SDK (boto3, the AWS SDK for JavaScript) come from its
    image, mounted at /var/lang and /var/runtime as on Lambda. `endpoint_url`: where the
    function's SDK reaches Lambent (AWS_ENDPOINT_URL)."""
    launch = with_function_options(launch_for(version.runtime, runtime_images), version.environment)
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
        endpoint_url=endpoint_url,
    )
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
