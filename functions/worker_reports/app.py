"""SQS worker: renders one queued report per message (HTML + PDF to S3) and e-mails scheduled ones through the
communications flow. Redelivery is harmless: a report already ready or sent is left as it is. After the last
attempt the error is written on the report before the message goes to the dead-letter queue."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from strategist import bootstrap
from strategist.services.reports import service

log = logging.getLogger("worker_reports")
processor = BatchProcessor(event_type=EventType.SQS)
#: The queue's maxReceiveCount (template.yaml): the attempt after which the message is dead-lettered.
MAX_RECEIVES = 5


def record_handler(record: SQSRecord) -> dict[str, Any]:
    body = json.loads(record.body)
    try:
        with bootstrap.system_unit_of_work("worker_reports") as uow:
            result = service.process_message(uow, body)
    except Exception as exc:
        receives = int(record.attributes.approximate_receive_count or 1)
        if receives >= MAX_RECEIVES:
            with bootstrap.system_unit_of_work("worker_reports") as uow:
                service.mark_failed(uow, body, f"{type(exc).__name__}: {exc}")
        raise
    log.info("report %s: %s", result["report_id"], result["outcome"])
    return result


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
