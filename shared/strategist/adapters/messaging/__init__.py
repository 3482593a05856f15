"""Outbound messaging: SES e-mail, SNS SMS and signed webhooks. Only the communications worker uses these."""

from strategist.adapters.messaging.base import PermanentSendError, SendResult, TransientSendError

__all__ = ["PermanentSendError", "SendResult", "TransientSendError"]
