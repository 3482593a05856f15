"""Hourly: one SQS message per live ad-platform connection; worker_sync does the work in parallel."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.sync_schedule import fan_out

log = logging.getLogger("job_sync")


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    queued = fan_out(lambda: bootstrap.system_unit_of_work("job_sync"), bootstrap.sync_queue())
    log.info("queued %d connection syncs", queued)
    return {"queued": queued}
