"""Client communications (issue 7): the message, its deliveries per channel and recipient, templates, consent.

Callers (alerts, reports, invitations, the send API) use `queue_communication` only; the worker
(`strategist.services.communications.delivery`) is the only code that talks to SES, SNS or webhooks."""

from strategist.services.communications.queue import (
    CHANNELS,
    enqueue_communication,
    queue_communication,
)

__all__ = ["CHANNELS", "enqueue_communication", "queue_communication"]
