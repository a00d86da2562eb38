"""Event decoding and result encoding, byte-compatible with AWS's Python runtime.

AWS encodes with simplejson: default separators, NaN allowed, `ensure_ascii` off from
python3.12 on (on for 3.11), `bytes` results passed through untouched, and `Decimal`s
written as the exact number they hold. The standard library encoder cannot emit a raw
number from `default`, so a Decimal is first written as a marker string and the markers
are swapped for the digits afterwards - only when a Decimal was actually seen, so the
common path is one `json.dumps`.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

from .faults import MARSHAL_ERROR, UNMARSHAL_ERROR, FaultError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_NON_ASCII_RUNTIMES = frozenset(
    {
        "AWS_Lambda_python3.12",
        "AWS_Lambda_python3.13",
        "AWS_Lambda_python3.14",
        "AWS_Lambda_python3.15",
    }
)


class Marshaller:
    def __init__(self, environ: Mapping[str, str]) -> None:
        ensure_ascii = environ.get("AWS_EXECUTION_ENV") not in _NON_ASCII_RUNTIMES
        self._marker = "\x00" + os.urandom(6).hex() + ":"
        # The marker's NUL is escaped to \u0000 in the output; match it in that form.
        escaped = json.dumps(self._marker)[1:-1]
        self._marker_re = re.compile('"' + re.escape(escaped) + r'([^"]*)"')
        self._saw_decimal = False
        self._encoder = json.JSONEncoder(
            ensure_ascii=ensure_ascii, allow_nan=True, default=self._default
        )

    def _default(self, obj: Any) -> Any:
        # A Decimal can only exist if its module is loaded: no need to import it here.
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            self._saw_decimal = True
            return self._marker + str(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    def encode(self, obj: Any) -> str:
        """JSON text of `obj` (raises TypeError/ValueError like json.dumps)."""
        self._saw_decimal = False
        text = self._encoder.encode(obj)
        if self._saw_decimal:
            text = self._marker_re.sub(r"\1", text)
        return text

    def marshal_response(self, result: Any) -> tuple[bytes, str]:
        """The response body and its content type; unencodable results are a MarshalError."""
        if isinstance(result, bytes):
            return result, "application/unknown"
        try:
            return self.encode(result).encode("utf-8"), "application/json"
        except Exception as exc:
            raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}", None) from None

    def to_json(self, obj: Any) -> bytes:
        """Encode the runtime's own documents (error bodies); never fails on odd values."""
        try:
            return self.encode(obj).encode("utf-8")
        except Exception:
            return json.dumps(obj, default=str).encode("utf-8")


def unmarshal_event(body: bytes, content_type: str | None) -> Any:
    """The event: JSON-decoded, or the raw bytes when Lambda says it is not JSON."""
    if content_type is not None and content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as exc:
        raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}", None) from None
