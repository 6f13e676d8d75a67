"""Callback bodies that AIRudder encrypts or signs (both ASSUMPTION). `cryptography` is imported only when a
body is decrypted, so only accounts with encrypted callbacks load it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from dialhub.jsonguard import JsonRefused, read_json
from dialhub.vendors.airudder.wire import Fields
from dialhub.vendors.base import CallbackRejected


def signature_ok(app_secret: str, body: bytes, given: str) -> bool:
    """`X-AIRudder-Sign`: the HMAC-SHA256 of the raw body keyed with APPSecret, hex or base64."""
    given = given.strip()
    if not given:
        return False
    mac = hmac.new(app_secret.encode(), body, hashlib.sha256)
    return hmac.compare_digest(given.lower().encode(), mac.hexdigest().encode()) or hmac.compare_digest(
        given.encode(), base64.b64encode(mac.digest())
    )


def encrypted_text(raw: bytes) -> str:
    """The base64 text of an encrypted body: the body itself, or `data` of a JSON object wrapping it."""
    try:
        text = raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise CallbackRejected("encrypted body is not base64 text") from exc
    if text.startswith("{"):
        try:
            wrapper = read_json(text)
        except JsonRefused as exc:
            raise CallbackRejected("encrypted body is not base64 text") from exc
        value = Fields(wrapper).get("data", "encrypt", "encrypted", "content") if isinstance(wrapper, dict) else None
        if not isinstance(value, str):
            raise CallbackRejected("expected an encrypted body (encryptCallbacks is on)")
        return value
    return text.strip('"')


def decrypt_body(ciphertext_b64: str, key: bytes, iv: bytes) -> bytes:
    """AES-CBC + PKCS7 over base64 text, as the account's encrypted callbacks are sent (ASSUMPTION)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        ciphertext = base64.b64decode(ciphertext_b64.strip(), validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except (ValueError, binascii.Error) as exc:
        raise CallbackRejected("encrypted body could not be decrypted") from exc
