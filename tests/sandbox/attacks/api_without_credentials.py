"""Call the public Lambda API from inside a function with no credentials at all, and with
made-up ones: both must be refused as AWS refuses them. The server's loopback-only
endpoints must not take the function for a local client either."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

HOST_ADDRESS = "169.254.100.1"


def _call(url: str, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return {"status": resp.status, "error_type": None}
    except urllib.error.HTTPError as err:
        return {"status": err.code, "error_type": err.headers.get("x-amzn-ErrorType")}
    except OSError as err:
        return {"status": None, "error_type": type(err).__name__}


def handler(event: Any, context: Any) -> dict[str, Any]:
    url = f"http://{HOST_ADDRESS}:{int(event['port'])}/2015-03-31/functions/"
    forged = (
        "AWS4-HMAC-SHA256 Credential=AKIAFORGEDFORGED0000/20260101/us-east-1/lambda/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    )
    stats = f"http://{HOST_ADDRESS}:{int(event['port'])}/_lambent/stats"
    return {
        "stats": _call(stats, {}),  # loopback-only: a function is not a local client
        "anonymous": _call(url, {}),
        "forged": _call(url, {"Authorization": forged, "X-Amz-Date": "20260101T000000Z"}),
    }


if __name__ == "__main__":
    print(json.dumps(handler(json.loads(os.environ.get("ATTACK_EVENT", "{}")), None)))
