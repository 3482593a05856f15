"""Hourly: due report schedules become held reports (one per schedule and period); held reports whose data is
final, or whose hold deadline passed (sent provisional), go on the reports queue for worker_reports."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.reports import schedules
from strategist.services.reports.service import reports_queue

log = logging.getLogger("job_reports")


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    counts = schedules.run(lambda: bootstrap.system_unit_of_work("job_reports"), reports_queue())
    log.info("reports job: %s", counts)
    return counts
