"""Signed webhooks.

Every request carries
  X-Strategist-Timestamp: <unix seconds>
  X-Strategist-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
  X-Strategist-Delivery: <delivery idempotency key> (the same on every retry and redelivery)
and a JSON body. The secret is per tenant (POST /api/v1/communication-settings/webhook-secret shows it once).

Receiver recipe (any language; Python: `verify_signature` below):
  1. read the raw body bytes before parsing JSON;
  2. reject if |now - timestamp| > 300 s (replay window);
  3. compute HMAC-SHA256 with the secret over the bytes of f"{timestamp}." + body, hex-encode, and compare with
     the signature header's value after "sha256=" in constant time;
  4. de-duplicate on X-Strategist-Delivery: a delivery whose worker stopped after the POST may be posted again.

SSRF: only http(s) URLs whose host resolves exclusively to public addresses are called (no private, loopback,
link-local, multicast, reserved or metadata addresses); redirects are not followed. Operators may allow named
hosts for local development with COMMUNICATIONS_WEBHOOK_ALLOW_HOSTS (comma separated). The check resolves right
before the request; a DNS answer changing between the check and the connection (rebinding) remains possible in
principle, which is why the worker's Lambda also has no route to anything private but the database proxy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from strategist.adapters.messaging.base import PermanentSendError, SendResult, TransientSendError

SIGNATURE_HEADER = "X-Strategist-Signature"
TIMESTAMP_HEADER = "X-Strategist-Timestamp"
DELIVERY_HEADER = "X-Strategist-Delivery"
TOLERANCE_S = 300
ATTEMPTS = 3
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance_s: int = TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """The receiver's check: a fresh timestamp and a signature over exactly these bytes."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature.strip())


def allowed_private_hosts() -> frozenset[str]:
    """Operator setting for local development only (a receiver on 127.0.0.1)."""
    raw = os.environ.get("COMMUNICATIONS_WEBHOOK_ALLOW_HOSTS", "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def is_public_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and ip not in _METADATA


def check_target(url: str, *, resolve: Callable[[str, int], list[str]] | None = None) -> None:
    """Raise PermanentSendError unless url is http(s) and every address its host resolves to is public."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentSendError("webhook URL must be http(s) with a host")
    if parts.username or parts.password:
        raise PermanentSendError("webhook URL must not carry credentials")
    host = parts.hostname.lower()
    if host in allowed_private_hosts():
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = (resolve or _resolve)(host, port)
    except OSError as exc:
        raise TransientSendError(f"webhook host {host} does not resolve: {exc}") from exc
    if not addresses:
        raise TransientSendError(f"webhook host {host} does not resolve")
    for address in addresses:
        if not is_public_ip(address):
            raise PermanentSendError(
                f"webhook host {host} resolves to {address}, a non-public address (refused: SSRF protection)"
            )


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


class _Retryable(Exception):
    pass


class WebhookSender:
    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        resolve: Callable[[str, int], list[str]] | None = None,
        wait_multiplier: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.transport = transport
        self.resolve = resolve
        self.wait_multiplier = wait_multiplier
        self.clock = clock

    def send(self, url: str, payload: dict[str, Any], *, secret: str, delivery_key: str) -> SendResult:
        check_target(url, resolve=self.resolve)
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
        last_status: list[int] = []

        def attempt() -> httpx.Response:
            ts = int(self.clock())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "marketing-strategist-webhooks/1",
                TIMESTAMP_HEADER: str(ts),
                SIGNATURE_HEADER: sign(secret, ts, body),
                DELIVERY_HEADER: delivery_key,
            }
            try:
                with httpx.Client(
                    transport=self.transport, timeout=TIMEOUT, follow_redirects=False
                ) as client:
                    response = client.post(url, content=body, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            last_status.append(response.status_code)
            if response.status_code >= 500 or response.status_code == 429:
                raise _Retryable(f"HTTP {response.status_code}")
            return response

        try:
            response = Retrying(
                retry=retry_if_exception_type(_Retryable),
                stop=stop_after_attempt(ATTEMPTS),
                wait=wait_exponential(multiplier=self.wait_multiplier, max=4),
                reraise=True,
            )(attempt)
        except _Retryable as exc:
            raise TransientSendError(f"webhook failed after {ATTEMPTS} attempts: {exc}") from exc
        if 300 <= response.status_code < 400:
            raise PermanentSendError(
                f"webhook answered a redirect (HTTP {response.status_code}); not followed"
            )
        if response.status_code >= 400:
            raise PermanentSendError(f"webhook refused: HTTP {response.status_code}")
        return SendResult(response.headers.get("X-Request-Id") or f"HTTP {response.status_code}")
