"""A function's async settings, read from the control plane's cached documents.

FunctionEventInvokeConfig (per version or alias; the unqualified function uses $LATEST's)
gives the retries, the event age and the destinations; the version's DeadLetterConfig
gives the dead-letter target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambent.async_invoke.policy import DEFAULT_MAX_AGE_S, DEFAULT_MAX_RETRIES, RetryConfig


class AsyncCatalog(Protocol):
    """What async delivery asks the control plane besides what InvokeService does."""

    async def event_invoke_config(
        self, account: str, name: str, qualifier: str | None
    ) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    retry: RetryConfig = field(default_factory=RetryConfig)
    on_success: str | None = None
    on_failure: str | None = None
    dead_letter: str | None = None


def _destination(config: Mapping[str, Any], side: str) -> str | None:
    target = ((config.get("DestinationConfig") or {}).get(side) or {}).get("Destination")
    return str(target) if target else None


def async_config(
    event_invoke: Mapping[str, Any] | None, version_config: Mapping[str, Any] | None
) -> AsyncConfig:
    eic = event_invoke or {}
    retries = eic.get("MaximumRetryAttempts")
    age = eic.get("MaximumEventAgeInSeconds")
    dead_letter = ((version_config or {}).get("DeadLetterConfig") or {}).get("TargetArn")
    return AsyncConfig(
        retry=RetryConfig(
            max_retries=DEFAULT_MAX_RETRIES if retries is None else int(retries),
            max_age_s=DEFAULT_MAX_AGE_S if age is None else float(age),
        ),
        on_success=_destination(eic, "OnSuccess"),
        on_failure=_destination(eic, "OnFailure"),
        dead_letter=str(dead_letter) if dead_letter else None,
    )
