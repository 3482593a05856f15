"""Every 5 minutes: enqueue scheduled communications due within 15 minutes (with the remaining SQS delay),
re-enqueue queued ones whose nudge was lost, and mark communications sitting in the DLQ as dead-lettered."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.communications.schedule import (
    dead_letter_queue_url,
    enqueue_due,
    record_dead_letters,
)

log = logging.getLogger("job_communications")


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    counts = enqueue_due(lambda: bootstrap.system_unit_of_work("job_communications"))
    dlq_url = dead_letter_queue_url(bootstrap.settings().queue_urls.get("communications", ""))
    if dlq_url:
        dead = record_dead_letters(lambda: bootstrap.system_unit_of_work("job_communications"), dlq_url)
        counts |= {f"dead_letters_{k}": v for k, v in dead.items()}
    log.info("communications: %s", counts)
    return counts
