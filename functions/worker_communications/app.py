"""SQS worker: delivers one communication per message (e-mail via SES, SMS via SNS, signed webhooks, in-app),
each (channel, recipient) exactly once; failed items are reported individually (ReportBatchItemFailures) so only
they are redelivered, and dead-lettered after 5 receives with the reason recorded on the communication."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from strategist import bootstrap
from strategist.services.communications.delivery import Senders, deliver

log = logging.getLogger("worker_communications")
processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def senders() -> Senders:
    from strategist.adapters.messaging.email import SesEmailSender
    from strategist.adapters.messaging.sms import SnsSmsSender
    from strategist.adapters.messaging.webhook import WebhookSender

    settings = bootstrap.settings()
    return Senders(
        email=SesEmailSender(settings.data_bucket),
        sms=SnsSmsSender(),
        webhook=WebhookSender(),
        cipher=bootstrap.credential_cipher,
        key_ring=bootstrap.key_ring,
        sender_email=settings.sender_email,
        public_base_url=settings.public_base_url,
    )


def record_handler(record: SQSRecord, lambda_context: Any = None) -> dict[str, Any]:
    """Powertools passes the Lambda context (it sees the parameter), so the delivery loop knows its time left."""
    receives = int(record.attributes.approximate_receive_count or 1)
    outcome = deliver(
        record.body,
        uow_factory=lambda: bootstrap.system_unit_of_work("worker_communications"),
        senders=senders(),
        receive_count=receives,
        time_left_s=(lambda: lambda_context.get_remaining_time_in_millis() / 1000)
        if hasattr(lambda_context, "get_remaining_time_in_millis")
        else None,
    )
    log.info(
        "communication %s: %s sent=%s suppressed=%s failed=%s skipped=%s",
        outcome.communication_id,
        outcome.status,
        outcome.sent,
        outcome.suppressed,
        outcome.failed,
        outcome.skipped,
    )
    return {"communication_id": str(outcome.communication_id), "status": outcome.status}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
