"""Every 5 minutes: enqueue scheduled communications due within 15 minutes (with the remaining SQS delay) and
re-enqueue queued ones whose nudge was lost."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.communications.schedule import enqueue_due

log = logging.getLogger("job_communications")


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    counts = enqueue_due(lambda: bootstrap.system_unit_of_work("job_communications"))
    log.info("communications: %s", counts)
    return counts
