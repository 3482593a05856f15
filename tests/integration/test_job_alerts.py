"""job_alerts end to end on the local stack: the template's EventBridgeRule events are delivered locally (a domain
event written with a change → outbox relay → moto bus → the rule's pattern → the function), client.created installs
the default rules, metrics.synced evaluates only the synced client, and the 15-minute schedule evaluates all."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import boto3
import pytest

from infra.local import lambda_runtime
from infra.local.eventbridge import event_rules, start_delivery
from strategist import bootstrap
from strategist.services.outbox import relay


@pytest.fixture(scope="module")
def delivery(stack):
    calls: list[tuple[str, dict[str, Any], Any]] = []

    def invoke(function: str, event: dict[str, Any]) -> Any:
        result = lambda_runtime.invoke(stack.template.functions[function], event)
        calls.append((function, event, result))
        return result

    d = start_delivery(stack.template, stack.resources, invoke, background=False)
    d.wait_s = 0
    return d, calls


def _relay_and_deliver(stack, d) -> None:
    events = boto3.client("events", endpoint_url=stack.resources.endpoint)
    report = relay(lambda: bootstrap.system_unit_of_work("test"), events, bootstrap.settings().event_bus_name)
    assert report.failed == 0
    for binding in d.bindings:
        while d.poll_once(binding):
            pass


def test_template_rules_are_read_generically(stack):
    rules = {(r.function, r.name): r.pattern for r in event_rules(stack.template)}
    assert rules[("JobAlertsFunction", "AfterSync")] == {
        "source": ["marketing-strategist"],
        "detail-type": ["metrics.synced"],
    }
    assert ("JobAlertsFunction", "ClientCreated") in rules


def test_client_created_installs_defaults_and_sync_evaluates_that_client_only(
    api, make_tenant, stack, delivery
):
    d, calls = delivery
    _relay_and_deliver(stack, d)  # whatever earlier tests left in the outbox
    calls.clear()
    t = make_tenant()
    created = api.post("/api/v1/clients", json={"name": "Alerted"}, headers=t.owner.headers).json()["data"]
    api.post("/api/v1/clients", json={"name": "Quiet"}, headers=t.owner.headers)
    # an unrelated event of the same tenant matches no rule of the job
    _relay_and_deliver(stack, d)
    mine = [(f, e, r) for f, e, r in calls if e["detail"].get("tenant_id") == str(t.tenant_id)]
    assert {e["detail-type"] for _, e, _ in mine} == {"client.created"}
    assert all(f == "JobAlertsFunction" for f, _, _ in mine) and len(mine) == 2
    result = next(r for _, e, r in mine if e["detail"]["client_id"] == created["id"])
    assert result["trigger"] == "client.created" and result["defaults_installed"] == 3
    rules = api.get("/api/v1/alerts/rules", params={"client_id": created["id"]}, headers=t.owner.headers)
    assert sorted(r["kind"] for r in rules.json()["rules"]["items"]) == [
        "anomaly", "connection_broken", "tracking_stopped",
    ]  # fmt: skip
    # a sync of the first client: the job evaluates that client's rules only
    calls.clear()
    with bootstrap.system_unit_of_work("test") as uow:
        uow.set_tenant(t.tenant_id)
        uow.emit("metrics.synced", {"connection_id": uuid.uuid4(), "client_id": uuid.UUID(created["id"]),
                                    "platform": "google_ads", "rows": 0})  # fmt: skip
    _relay_and_deliver(stack, d)
    [(function, event, result)] = [
        c
        for c in calls
        if c[1]["detail"].get("tenant_id") == str(t.tenant_id) and c[0] == "JobAlertsFunction"
    ]  # JobLivePushFunction (issue 8, live updates) also receives metrics.synced
    assert function == "JobAlertsFunction" and event["detail-type"] == "metrics.synced"
    assert result["trigger"] == "metrics.synced" and result["clients"] == 1 and result["rules"] == 3
    assert result["failed"] == 0
    # the schedule evaluates every client with rules (both of this tenant's now)
    api.post("/api/v1/alerts/rules/defaults", json={"client_id": str(t.clients[0])}, headers=t.owner.headers)
    scheduled = lambda_runtime.invoke(
        stack.template.functions["JobAlertsFunction"],
        lambda_runtime.scheduled_event("JobAlertsFunction-test"),
    )
    assert scheduled["trigger"] == "scheduled" and scheduled["clients"] >= 2
    # the scheduled run serves every tenant of the shared stack (other test files' rows included): this
    # tenant's clients are checked on their own
    from strategist.services.alerts import evaluate

    mine = evaluate.run(lambda: bootstrap.system_unit_of_work("test"), tenant_id=t.tenant_id)
    assert mine.clients >= 2 and mine.failed == 0


def test_failed_delivery_stays_queued_for_retry(stack):
    from infra.local.eventbridge import Binding, EventDelivery

    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    url = sqs.create_queue(QueueName="test-eb-retry", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody='{"detail-type": "x", "detail": {}}')
    attempts: list[int] = []

    def flaky(event: dict[str, Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("cold start failed")

    rule = event_rules(stack.template)[0]
    d = EventDelivery(sqs, [Binding(rule, url, flaky)], wait_s=0)
    b = d.bindings[0]
    assert d.poll_once(b) == 0 and b.failed == 1 and "cold start failed" in (b.last_error or "")
    deadline = dt.datetime.now() + dt.timedelta(seconds=5)
    while d.poll_once(b) == 0 and dt.datetime.now() < deadline:
        pass
    assert b.delivered == 1 and len(attempts) == 2
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None
