"""Evaluates alert rules: every 15 minutes (all clients), after each sync (the metrics.synced event, narrowed to
the synced client), and on client.created (installs the client's default rules, then evaluates them). The work
is in strategist.services.alerts.evaluate."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from typing import Any

from strategist import bootstrap
from strategist.services.alerts import evaluate

log = logging.getLogger("job_alerts")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    factory = lambda: bootstrap.system_unit_of_work("job_alerts")  # noqa: E731
    kind = event.get("detail-type")
    detail = event.get("detail") or {}
    if kind in {"metrics.synced", "client.created"} and detail.get("tenant_id") and detail.get("client_id"):
        tenant_id, client_id = uuid.UUID(str(detail["tenant_id"])), uuid.UUID(str(detail["client_id"]))
        installed = (
            evaluate.install_defaults_for(factory, tenant_id, client_id) if kind == "client.created" else 0
        )
        report = evaluate.run(factory, tenant_id=tenant_id, client_id=client_id)
        report.defaults_installed = installed
    else:
        kind = "scheduled"
        report = evaluate.run(factory)
    log.info("alerts (%s): %s", kind, report)
    return {"trigger": kind, **asdict(report)}
