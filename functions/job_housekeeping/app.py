"""Daily: purge expired idempotency keys, refresh tokens and long-published outbox rows."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.housekeeping import purge_expired

log = logging.getLogger("job_housekeeping")


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    counts = purge_expired(lambda: bootstrap.system_unit_of_work("housekeeping"))
    log.info("housekeeping: %s", counts)
    return counts
