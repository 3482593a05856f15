"""Signed unsubscribe tokens: base64url(JSON {t, ch, r}) + "." + HMAC-SHA256, keyed by a purpose-bound derivation
of the service's signing keys (every key in the ring verifies, so rotation keeps old links working). No expiry:
an unsubscribe link in an old e-mail must keep working."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass

from strategist.adapters.crypto import KeyRing

PURPOSE = b"communications-unsubscribe-v1"


@dataclass(frozen=True)
class UnsubscribeClaim:
    tenant_id: uuid.UUID
    channel: str
    recipient: str


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(ring: KeyRing, tenant_id: uuid.UUID, channel: str, recipient: str) -> str:
    payload = _b64(
        json.dumps({"t": str(tenant_id), "ch": channel, "r": recipient}, separators=(",", ":")).encode()
    )
    mac = hmac.new(_key(ring.current.secret), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def read_token(ring: KeyRing, token: str) -> UnsubscribeClaim | None:
    try:
        payload, mac_text = token.split(".", 1)
        mac = _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    if not any(
        hmac.compare_digest(hmac.new(_key(k.secret), payload.encode(), hashlib.sha256).digest(), mac)
        for k in ring.keys
    ):
        return None
    try:
        data = json.loads(_unb64(payload))
        return UnsubscribeClaim(uuid.UUID(data["t"]), str(data["ch"]), str(data["r"]))
    except (ValueError, KeyError, TypeError):
        return None
