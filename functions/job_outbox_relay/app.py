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
    if report.failed:
        # Every row stays pending with its reason and goes out on the next run; failing the invocation is what
        # makes the Lambda Errors metric (OutboxRelayErrorsAlarm) see that events are not reaching the bus.
        raise RelayIncomplete(f"{report.failed} event(s) not accepted by the bus; {asdict(report)}")
    return asdict(report)


class RelayIncomplete(RuntimeError):
    """Some events were refused or the bus was unreachable."""
