"""What the S3 handlers share: the owner they show and S3's url encoding of keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

Result = dict[str, Any]


def owner(account: str) -> Result:
    """The bucket owner as S3 shows it: a 64-hex canonical user id per account."""
    return {"ID": hashlib.sha256(f"lambent-canonical-user:{account}".encode()).hexdigest()}


def encoder(params: Result) -> Callable[[str | None], str | None]:
    """Keys as the listing should show them: url-encoded when the client asked
    (botocore always asks, then decodes), else verbatim."""
    if params.get("EncodingType") == "url":
        return lambda text: None if text is None else quote(text, safe="/")
    return lambda text: text
