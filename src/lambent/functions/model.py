"""The typed view of a function version that the invoke path runs.

The control plane stores AWS's FunctionConfiguration document; `FunctionVersion` is what the
data plane needs from it, built once per revision and cached, so a warm invoke reads no
database and parses no JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

LATEST = "$LATEST"


@dataclass(frozen=True)
class LayerRef:
    arn: str  # layer version ARN
    code_sha256_hex: str  # blob of the layer zip
    code_size: int


@dataclass(frozen=True)
class FunctionVersion:
    account_id: str
    region: str
    function_name: str
    version: str  # "$LATEST" or "1", "2", ...
    function_arn: str  # unqualified ARN
    revision_id: str
    runtime: str  # python3.11, nodejs20.x, provided.al2023, ...
    handler: str
    role: str
    memory_mb: int
    timeout_s: int
    ephemeral_mb: int
    environment: Mapping[str, str]
    layers: tuple[LayerRef, ...]
    code_sha256_hex: str
    code_size: int
    state: str  # Pending | Active | Inactive | Failed
    last_update_status: str  # Successful | Failed | InProgress
    snapstart: bool  # SnapStart.ApplyOn == PublishedVersions and this is a published version
    network: str = "egress"  # "egress" or "none" (Lambent extension, see docs)
    log_group: str = ""
    log_format: str = "Text"
    application_log_level: str | None = None  # LoggingConfig.ApplicationLogLevel (JSON format)
    system_log_level: str | None = None  # LoggingConfig.SystemLogLevel (JSON format)
    config: Mapping[str, Any] = field(default_factory=dict)  # the full FunctionConfiguration
    recursive_loop: str = "Terminate"  # the function's recursion config (Allow | Terminate)
    # Digest of what an environment of this version is made of (code, layers, runtime,
    # configuration), not of RevisionId or State, which change without changing those.
    fingerprint: str = ""

    @property
    def qualified_arn(self) -> str:
        return f"{self.function_arn}:{self.version}"

    @property
    def key(self) -> str:
        """Identity of an environment template: same key, same code and configuration.

        A published version's code and configuration never change (only its State does, e.g.
        when its SnapStart snapshot is ready), so its number is enough; $LATEST needs the
        fingerprint of its code and configuration: its RevisionId also changes when only its
        State does (Pending to Active), and the template made while it was Pending is the
        one its first invoke must find."""
        if self.version == LATEST:
            digest = self.fingerprint or self.revision_id
            return f"{self.account_id}/{self.function_name}/{self.version}/{digest}"
        return f"{self.account_id}/{self.function_name}/{self.version}"


@dataclass(frozen=True)
class Resolved:
    """What an invoke of (function, qualifier) runs."""

    version: FunctionVersion
    alias: str | None = None
    # RoutingConfig.AdditionalVersionWeights of the alias: version -> weight (0..1).
    additional_weights: Mapping[str, float] = field(default_factory=dict)
    alias_arn: str | None = None
    # The versions those weights name, loaded with the alias, so routing needs no lookup.
    additional_versions: Mapping[str, FunctionVersion] = field(default_factory=dict)

    @property
    def invoked_arn(self) -> str:
        """The ARN the caller named (alias-qualified when invoked through an alias)."""
        return self.alias_arn or (
            self.version.function_arn
            if self.version.version == LATEST and self.alias is None
            else self.version.qualified_arn
        )


class FunctionListener(Protocol):
    """The data plane's ear on the control plane (environment pools, SnapStart templates)."""

    def function_changed(
        self, account_id: str, function_name: str, version: str
    ) -> Awaitable[None] | None:
        """A version's code or configuration changed, or it was deleted ("*" = all).
        A listener with store work to do returns an awaitable; the catalog awaits it."""

    def version_published(self, account_id: str, function_name: str, version: str) -> None:
        """A version was published (SnapStart: the data plane now makes its snapshot)."""


class FunctionCatalog(Protocol):
    """What the data plane asks the control plane. Cached; invalidated on writes."""

    async def resolve(
        self, account_id: str, function: str, qualifier: str | None, *, region: str | None = None
    ) -> Resolved:
        """`function` is a name, a partial ARN or a full ARN (maybe with a qualifier), called
        from `region`. Raises ResourceNotFound with AWS's message. Cached: a hit awaits
        nothing that suspends."""

    async def version(self, account_id: str, function_name: str, version: str) -> FunctionVersion:
        """A specific version. Raises ResourceNotFound."""

    def subscribe(self, listener: FunctionListener) -> None: ...
