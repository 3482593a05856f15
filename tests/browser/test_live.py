"""Receive a live alert (issue 8, live updates) in a real browser: a signed-in client view connected to the
gateway's WebSocket API shows "Live"; an alert then fires through the alerts job's evaluation, its domain event
goes outbox → relay → bus → the push function → the page's socket, and the page shows the alert without a reload."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any

import boto3
import pytest

from infra.local import lambda_runtime
from infra.local.eventbridge import start_delivery
from strategist import bootstrap
from strategist.services.outbox import relay
from tests.browser.conftest import ROOT, sign_in
from tests.functions.test_alerts_api import _campaign, _metrics, _run

pytestmark = [pytest.mark.browser, pytest.mark.stack]


def _push_delivery(stack: Any) -> Any:
    """The push function's EventBridge rule, provisioned on the moto bus (before the event is published)."""
    d = start_delivery(
        stack.template,
        stack.resources,
        lambda fn, event: lambda_runtime.invoke(stack.template.functions[fn], event),
        background=False,
    )
    d.wait_s = 0
    d.bindings = [b for b in d.bindings if b.rule.function == "JobLivePushFunction"]
    return d


def _relay_and_push(stack: Any, d: Any) -> None:
    events = boto3.client("events", endpoint_url=stack.resources.endpoint)
    report = relay(lambda: bootstrap.system_unit_of_work("test"), events, bootstrap.settings().event_bus_name)
    assert report.failed == 0
    for binding in d.bindings:
        while d.poll_once(binding):
            pass
    assert all(b.failed == 0 for b in d.bindings)


def test_receive_a_live_alert(page: Any, make_tenant: Any, api: Any, stack: Any) -> None:
    world = make_tenant("Live browser agency")
    delivery = _push_delivery(stack)
    client = world.clients[0]
    sign_in(page, world.owner.email, world.owner.password)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/clients/{client}")
    alerts = page.get_by_test_id("alerts")
    alerts.get_by_text("No open alerts").wait_for()
    status = page.get_by_test_id("live-status").first
    page.wait_for_function(
        "() => document.querySelector('[data-testid=live-status]')?.dataset.status === 'live'", timeout=10_000
    )
    assert status.inner_text().strip() == "Live"
    page.evaluate("window.__sameDocument = true")

    # the alert fires: a campaign over its weekly spend cap, evaluated by the alerts job's service
    today = dt.datetime.now(dt.UTC).date()
    camp = _campaign(world)
    _metrics(world, camp, {today - dt.timedelta(days=i): (100.0, 200, 5.0) for i in range(1, 15)})
    rule = api.post(
        "/api/v1/alerts/rules",
        json={"client_id": str(client), "name": "Weekly spend cap", "kind": "threshold", "scope": "campaign",
              "campaign_id": str(camp), "channels": ["in_app"],
              "params": {"metric": "cost", "comparator": "gt", "value": 500, "window_days": 7}},
        headers=world.analyst.headers,
    )  # fmt: skip
    assert rule.status_code == 201, rule.text
    assert _run(world).opened == 1
    [alert] = api.get(
        "/api/v1/alerts", params={"client_id": str(client)}, headers=world.owner.headers
    ).json()["alerts"]["items"]
    _relay_and_push(stack, delivery)

    alerts.get_by_text(alert["title"]).wait_for(timeout=10_000)
    assert "1 open" in alerts.locator("h2").inner_text()
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    alerts.scroll_into_view_if_needed()
    # the committed screenshot is refreshed on request only, so a test run leaves the work tree clean
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(ROOT / "dashboard" / "screenshots" / "live-alert.png"), full_page=False)
