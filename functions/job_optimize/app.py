"""Daily: optimize every active campaign of every tenant and evaluate the automation rules (issue 6). Changes
the tenant chose to automate go through the same guarded apply as a person's (cap, cooldown, approval)."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.services.optimization import job
from strategist.services.optimization.apply import Platforms

log = logging.getLogger("job_optimize")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    totals = job.run(
        lambda: bootstrap.system_unit_of_work("job_optimize"),
        Platforms(cipher=bootstrap.credential_cipher(), connectors=bootstrap.connect),
    )
    log.info("optimize job: %s", totals)
    return totals
