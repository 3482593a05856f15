"""Domain events written with a change reach the EventBridge bus through the relay, once, and survive a bus
outage. A rule on the moto bus forwards to an SQS queue so the test can read what was published."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from sqlalchemy import create_engine, text

from strategist import bootstrap
from strategist.services.outbox import relay


@pytest.fixture(scope="module")
def bus_tap(stack):
    endpoint = stack.resources.endpoint
    events = boto3.client("events", endpoint_url=endpoint)
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    bus = bootstrap.settings().event_bus_name
    url = sqs.create_queue(QueueName="test-bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["marketing-strategist"]})
    )
    events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url, bus


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _relay_all(publisher: Any, bus: str) -> Any:
    return relay(lambda: bootstrap.system_unit_of_work("test"), publisher, bus)


def test_events_reach_the_bus_once(api, make_tenant, bus_tap, stack):
    sqs, url, bus = bus_tap
    _relay_all(boto3.client("events", endpoint_url=stack.resources.endpoint), bus)
    _drain(sqs, url)
    t = make_tenant()
    created = api.post("/api/v1/clients", json={"name": "Evented"}, headers=t.owner.headers).json()["data"]
    events = boto3.client("events", endpoint_url=stack.resources.endpoint)
    report = _relay_all(events, bus)
    assert report.published >= 1 and report.failed == 0
    again = _relay_all(events, bus)
    assert again.published == 0
    received = [e for e in _drain(sqs, url) if e["detail"].get("client_id") == created["id"]]
    assert len(received) == 1
    event = received[0]
    assert event["detail-type"] == "client.created" and event["source"] == "marketing-strategist"
    assert event["detail"]["tenant_id"] == str(t.tenant_id) and "event_id" in event["detail"]


class _DownBus:
    def put_events(self, Entries):
        raise ConnectionError("bus unreachable")


def test_bus_outage_keeps_events_pending(api, make_tenant, bus_tap, stack):
    sqs, url, bus = bus_tap
    t = make_tenant()
    created = api.post("/api/v1/clients", json={"name": "Later"}, headers=t.owner.headers).json()["data"]
    failed = _relay_all(_DownBus(), bus)
    assert failed.failed >= 1 and failed.published == 0
    engine = create_engine(stack.owner_url())
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT published_at, attempts, last_error FROM outbox WHERE detail->>'client_id' = :c"),
            {"c": created["id"]},
        ).one()
    assert row[0] is None and row[1] == 1 and "bus unreachable" in row[2]
    ok = _relay_all(boto3.client("events", endpoint_url=stack.resources.endpoint), bus)
    assert ok.published >= 1
    with engine.connect() as conn:
        assert conn.execute(
            text("SELECT published_at IS NOT NULL FROM outbox WHERE detail->>'client_id' = :c"),
            {"c": created["id"]},
        ).scalar()
    engine.dispose()
    assert [e for e in _drain(sqs, url) if e["detail"].get("client_id") == created["id"]]
