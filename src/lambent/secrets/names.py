"""Secret names and ARNs as AWS makes them. Pure.

AWS appends a hyphen and six random characters to the name in a secret's ARN
(`arn:aws:secretsmanager:us-east-1:123456789012:secret:db-pass-a1B2c3`), so a secret
deleted and created again under its name gets another ARN. A SecretId is the name, the
full ARN, or the partial ARN without the suffix.
"""

from __future__ import annotations

import re
import secrets
import string

from lambent.secrets.errors import SecretInvalidParameter

_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_SUFFIX_ALPHABET = string.ascii_letters + string.digits
_ARN = re.compile(r"arn:aws:secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)")
_SUFFIXED = re.compile(r"(.+)-[A-Za-z0-9]{6}")

INVALID_NAME = (
    "Invalid name. Must be a valid name containing alphanumeric characters, "
    "or any of the following: -/_+=.@!"
)


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise SecretInvalidParameter(INVALID_NAME)


def new_arn(region: str, account: str, name: str) -> str:
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-{suffix}"


def candidates(secret_id: str) -> tuple[str | None, list[str]]:
    """(the account an ARN names, or None for a bare name; the names it may mean, most
    specific first): a full ARN's name without its suffix, then the partial ARN's whole
    tail as a name (a name may itself end in `-xxxxxx`)."""
    match = _ARN.fullmatch(secret_id)
    if match is None:
        return None, [secret_id]
    tail = match.group(3)
    suffixed = _SUFFIXED.fullmatch(tail)
    names = [suffixed.group(1), tail] if suffixed else [tail]
    return match.group(2), names
