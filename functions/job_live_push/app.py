"""Live updates (issue 8): an EventBridge rule on the bus delivers the domain events the dashboard listens for;
each goes to the open WebSocket connections of its tenant that may see it (tenant and client filtering happen
here, server-side), through API Gateway's management API on AWS and the local gateway's socket registry locally."""

from __future__ import annotations

import logging
from typing import Any

from strategist import bootstrap
from strategist.adapters.aws.websocket import connection_poster
from strategist.services import live

log = logging.getLogger("job_live_push")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    report = live.push(
        lambda: bootstrap.system_unit_of_work("live_push"), connection_poster(), event_type, detail
    )
    log.info("live push: %s", report.as_dict())
    return report.as_dict()
