"""Receipt handles: which queue incarnation, which message, which receive.

Opaque to clients (URL-safe base64). A handle names the receive that issued it: a later
receive of the same message issues a new token, and the old handle then deletes nothing
and changes no visibility, as AWS's expired receipt handles."""

from __future__ import annotations

import base64
import binascii

from lambent.sqs.errors import ReceiptHandleIsInvalid


def make(queue_id: str, seq: int, token: str) -> str:
    return base64.urlsafe_b64encode(f"{queue_id}:{seq}:{token}".encode()).decode()


def parse(handle: str) -> tuple[str, int, str]:
    """(queue id, seq, token), or AWS's ReceiptHandleIsInvalid."""
    try:
        text = base64.urlsafe_b64decode(handle.encode()).decode()
        queue_id, seq, token = text.split(":")
        return queue_id, int(seq), token
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from None
