"""What a sender returns or raises: the worker records a permanent error on the delivery and moves on, and
retries a transient one through SQS redelivery."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str | None


class SendError(Exception):
    pass


class PermanentSendError(SendError):
    """Retrying cannot help (rejected address, 4xx from a webhook, a refused private URL)."""


class TransientSendError(SendError):
    """May succeed later (throttling, 5xx, timeouts, an attachment not yet in S3)."""
