"""Which runtimes Lambent runs, and what Lambda answers for the others.

Two different refusals, as AWS words them:

  * A name that is no runtime at all (not in the `Runtime` enum of botocore's Lambda model)
    gets AWS's own enum message, unquoted and without the "1 validation error" prefix:
    `Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum
    value set: [...] or be a valid ARN`. The list is the model's enum in the model's order
    (AWS's own order could not be recovered whole; see docs/SPECIFICATION.md).
  * A runtime Lambda once had but Lambent cannot run (retired ones, and languages it has no
    image for) gets the answer AWS gives a runtime it no longer accepts at create, naming
    the newest runtime of the same language where Lambent has one.

docs/SPECIFICATION.md ("Runtimes") has the table of decisions per deprecated runtime.
"""

from __future__ import annotations

import functools
import hashlib
import re

import botocore.session

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


@functools.cache
def model_runtimes() -> tuple[str, ...]:
    """Every runtime name Lambda has ever had: the model's `Runtime` enum, in its order."""
    session = botocore.session.get_session()
    model = session.get_service_model("lambda", api_version="2015-03-31")
    return tuple(str(name) for name in model.shape_for("Runtime").metadata["enum"])


def _family(runtime: str) -> str:
    found = re.match(r"[a-z]+", runtime)
    return found.group(0) if found else runtime


def _version_key(runtime: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", runtime))


def successor(runtime: str, supported: frozenset[str] = SUPPORTED_RUNTIMES) -> str | None:
    """The newest runtime of the same language that Lambent runs, if it runs any."""
    same = [name for name in supported if _family(name) == _family(runtime)]
    return max(same, key=_version_key) if same else None


def runtime_error(
    runtime: str, supported: frozenset[str] = SUPPORTED_RUNTIMES
) -> InvalidParameterValue | None:
    """What Lambda answers a Create or UpdateFunctionConfiguration naming `runtime`, or
    None when Lambent runs it."""
    if runtime in supported:
        return None
    known = model_runtimes()
    if runtime not in known:
        return InvalidParameterValue(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(known)}] or be a valid ARN"
        )
    newer = successor(runtime, supported)
    advice = f"the new runtime ({newer})" if newer else "a supported runtime"
    return InvalidParameterValue(
        f"The runtime parameter of {runtime} is no longer supported for creating or updating "
        f"AWS Lambda functions. We recommend you use {advice} while creating or updating "
        "functions."
    )


def check_runtime(runtime: str, supported: frozenset[str] = SUPPORTED_RUNTIMES) -> None:
    error = runtime_error(runtime, supported)
    if error is not None:
        raise error
