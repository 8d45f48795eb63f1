"""Standard Webhooks signatures: the HMAC key from a channel secret, and the three headers.

The spec (https://www.standardwebhooks.com) signs `"{id}.{timestamp}.{body}"` with
HMAC-SHA256 and sends `webhook-signature: v1,<base64 digest>`. A secret written as
`whsec_<base64>` is decoded and its bytes are the key, as the spec defines. A secret without
that prefix is accepted too and its UTF-8 bytes are the key, as is (receivers that verify
with the `standardwebhooks` library then pass those bytes, not the string).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a channel secret; raise ValueError when it is empty or not valid base64."""
    secret = secret.strip()
    if not secret:
        raise ValueError("the webhook secret is empty")
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode("utf-8")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as e:
        raise ValueError("the part after 'whsec_' is not valid base64") from e
    if not key:
        raise ValueError("the webhook secret is empty after 'whsec_'")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` over `id.timestamp.body`."""
    signed = message_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for one send."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, message_id, timestamp, body),
    }
