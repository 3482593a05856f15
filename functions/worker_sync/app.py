"""SQS worker: syncs one connection (a window of days) per message, reporting failed items individually so
only they are redelivered (and dead-lettered after 5 tries)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from strategist import bootstrap
from strategist.services.sync import sync_connection

log = logging.getLogger("worker_sync")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    result = sync_connection(
        json.loads(record.body),
        uow_factory=lambda: bootstrap.system_unit_of_work("worker_sync"),
        cipher=bootstrap.credential_cipher(),
        connectors=bootstrap.connect,
        message_id=record.message_id,
    )
    log.info("sync %s: %s rows=%s window=%s", result.connection_id, result.status, result.rows, result.window)
    return result.__dict__


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
