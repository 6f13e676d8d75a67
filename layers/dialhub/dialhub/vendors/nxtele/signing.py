"""NXTele's signature, and the one serialisation of a body that is both signed and sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def sign(secret_key: str, body: bytes, create_ts: str, request_id: str, uuid: str, algorithm: str = "MD5") -> str:
    """NXTele's signature: upper-case hex MD5 (or SHA256) over
    `secretKey&body=<exact body bytes>&createTs=…&requestID=…&uuid=…`."""
    raw = b"".join(
        [
            secret_key.encode(),
            b"&body=",
            body,
            f"&createTs={create_ts}".encode(),
            f"&requestID={request_id}".encode(),
            f"&uuid={uuid}".encode(),
        ]
    )
    digest = hashlib.sha256 if algorithm.upper() == "SHA256" else hashlib.md5
    return digest(raw).hexdigest().upper()


def serialise(payload: dict[str, Any]) -> bytes:
    """The body exactly as sent and signed (json.dumps defaults, as in NXTele's sample): serialise once."""
    return json.dumps(payload, ensure_ascii=False).encode()
