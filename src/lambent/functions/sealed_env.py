"""Function environment variables at rest: sealed under the master key.

Lambda encrypts environment variables at rest (with KMS); they routinely hold API keys and
database passwords, so Lambent keeps them out of the database in the clear too. In a stored
configuration `Environment.Variables` is one sealed string (auth/sealing.py) of the
variables as JSON; the repository seals on every write and opens on every read, so the
rest of Lambent only ever sees the plain mapping. The associated data names the account
and the function, so a sealed value copied onto another function does not open; versions
published from $LATEST share it (the same function).
"""

from __future__ import annotations

import json
from typing import Any

from lambent.auth.sealing import Sealer, is_sealed


def _context(account: str, name: str) -> str:
    return f"lambda-environment:{account}:{name}"


def seal_config(config: dict[str, Any], sealer: Sealer, account: str, name: str) -> bool:
    """Seal the config's variables in place; True if there were plain variables to seal."""
    env = config.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    if not isinstance(variables, dict) or not variables:
        return False
    blob = json.dumps(variables, separators=(",", ":"), sort_keys=True)
    env["Variables"] = sealer.seal(blob, _context(account, name))  # type: ignore[index]
    return True


def open_config(config: dict[str, Any], sealer: Sealer, account: str, name: str) -> None:
    """Open the config's sealed variables in place (a plain mapping is left as it is)."""
    env = config.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    if is_sealed(variables):
        opened = sealer.open(str(variables), _context(account, name))
        env["Variables"] = json.loads(opened)  # type: ignore[index]


def has_plain_variables(config: dict[str, Any]) -> bool:
    env = config.get("Environment")
    variables = env.get("Variables") if isinstance(env, dict) else None
    return isinstance(variables, dict) and bool(variables)
