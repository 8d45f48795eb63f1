"""Standard Webhooks signing, checked against the spec's vector and the reference library."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.notify.signing import secret_key, sign, signature_headers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_matches_the_spec_example() -> None:
    # The example from the Standard Webhooks spec / reference libraries.
    signature = sign(
        secret_key(SECRET), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_whsec_secret_is_decoded_base64() -> None:
    assert secret_key(SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_raw_secret_is_its_utf8_bytes() -> None:
    assert secret_key("s3cret-ü") == "s3cret-ü".encode()


@pytest.mark.parametrize("bad", ["", "   ", "whsec_", "whsec_not base64!"])
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"secret|base64"):
        secret_key(bad)


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


@given(body=st.text(), message_id=st.from_regex(r"alt_[0-9a-z]{16}", fullmatch=True))
def test_reference_library_verifies_our_headers(body: str, message_id: str) -> None:
    data = body.encode()
    headers = signature_headers(secret_key(SECRET), message_id, _now(), data)
    assert headers["webhook-id"] == message_id
    Webhook(SECRET).verify(data, headers, json_parse=False)


def test_raw_secret_verifies_with_its_bytes() -> None:
    headers = signature_headers(secret_key("plain-secret"), "alt_x", _now(), b"{}")
    Webhook(b"plain-secret").verify(b"{}", headers, json_parse=False)


def test_tampered_body_or_id_fails_verification() -> None:
    headers = signature_headers(secret_key(SECRET), "alt_x", _now(), b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"a":2}', headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"a":1}', headers | {"webhook-id": "alt_y"}, json_parse=False)
