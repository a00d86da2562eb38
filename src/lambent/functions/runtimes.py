"""Which runtimes Lambent runs.

The service model lists every runtime AWS has ever had; the model's enum rejects names it
does not know with a ValidationException. Of the names it knows, Lambent accepts only the
ones it can really start; the rest get the InvalidParameterValueException AWS gives a
runtime it no longer supports, so clients see the same failure mode either way.
"""

from __future__ import annotations

import hashlib

from lambent.errors import InvalidParameterValue
from lambent.runtimes import registry

# The runtimes Lambent knows (the registry's list): a function may be created with any of
# them; one whose interpreter this host lacks fails at invoke with InvalidRuntimeException.
SUPPORTED_RUNTIMES: frozenset[str] = frozenset(registry.SUPPORTED_RUNTIMES)


def runtime_version_arn(region: str, runtime: str) -> str:
    """The runtime version ARN: GetFunction's RuntimeVersionConfig and the INIT_START line
    both name this one (Lambda's is its runtime image's digest; ours is stable per
    runtime)."""
    digest = hashlib.sha256(f"lambent:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def is_custom(runtime: str) -> bool:
    """OS-only runtimes run a `bootstrap` executable; they need no handler."""
    return runtime.startswith("provided")


def check_runtime(runtime: str, supported: frozenset[str] = SUPPORTED_RUNTIMES) -> None:
    if runtime not in supported:
        raise InvalidParameterValue(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
