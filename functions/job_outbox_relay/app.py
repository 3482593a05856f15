"""Every minute: publish committed domain events from the outbox to the EventBridge bus."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from strategist import bootstrap
from strategist.adapters.aws.clients import aws_client
from strategist.services.outbox import relay

log = logging.getLogger("job_outbox_relay")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = relay(
        lambda: bootstrap.system_unit_of_work("outbox_relay"),
        aws_client("events"),
        bootstrap.settings().event_bus_name,
    )
    log.info("outbox relay: %s", report)
    return asdict(report)
