"""The client's own search impression share end to end: the Google Ads connector pulls it from the simulator,
the sync stores it on campaign_metrics (Search campaigns only), and a competitor analysis aggregates it per week
weighted by eligible impressions."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import timedelta

import boto3
import httpx
import pytest
from sqlalchemy import create_engine, text

from infra.local import lambda_runtime
from infra.local.poller import Poller, QueueBinding


@pytest.fixture(scope="module")
def drain(stack):
    spec = stack.template.functions["WorkerSyncFunction"]
    trigger = next(t for t in stack.template.sqs_triggers if t.function == "WorkerSyncFunction")
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    binding = QueueBinding(
        trigger,
        stack.resources.queue_urls[trigger.queue],
        stack.resources.attributes[(trigger.queue, "Arn")],
        lambda event: lambda_runtime.invoke(spec, event),
    )
    poller = Poller(sqs, [binding], wait_s=0)

    def run() -> None:
        for _ in range(200):
            msgs = sqs.receive_message(QueueUrl=binding.queue_url, MaxNumberOfMessages=1)
            if not msgs.get("Messages"):
                return
            m = msgs["Messages"][0]
            sqs.change_message_visibility(
                QueueUrl=binding.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
            poller.poll_once(binding)
        raise AssertionError("queue did not drain")

    return run


def test_impression_share_is_synced_and_analysed(api, make_tenant, stack, drain):
    t = make_tenant()
    account = str(5_560_000_000 + uuid.uuid4().int % 1_000_000)
    acct = {
        "platform": "google_ads",
        "account_id": account,
        "name": "IS test",
        "currency": "USD",
        "time_zone": "UTC",
        "history_days": 40,
        "campaigns": [
            {"id": f"{account[:6]}1", "name": "Search generic", "budget": "80", "objective": "SEARCH"},
            {"id": f"{account[:6]}2", "name": "Display remarketing", "budget": "60", "objective": "DISPLAY"},
        ],
    }
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [acct]}).raise_for_status()
    creds = {
        "customer_id": account,
        "developer_token": "d",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "1//r",
    }
    r = api.post(
        f"/api/v1/clients/{t.clients[0]}/connections",
        json={"platform": "google_ads", "credentials": creds, "backfill_days": 40},
        headers=t.owner.headers,
    )
    assert r.status_code == 201, r.text
    drain()

    engine = create_engine(stack.owner_url())
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.name, m.date, m.impressions, m.search_impression_share, m.search_rank_lost_impression_share, "
                "m.search_budget_lost_impression_share FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
                "WHERE c.client_id = :c AND m.breakdown = ''"
            ),
            {"c": t.clients[0]},
        ).all()
    engine.dispose()
    search = [r for r in rows if r[0] == "Search generic"]
    display = [r for r in rows if r[0] == "Display remarketing"]
    assert search and display
    assert all(r[3] is not None and 0 < r[3] <= 1 for r in search)
    assert all(r[3] is None and r[4] is None and r[5] is None for r in display)
    rank = {r[4] for r in search}
    assert len(rank) == 1 and 0.1 <= float(rank.pop()) <= 0.35  # fixed per campaign in the simulator

    # the analysis: no uploads, but the synced share is enough; weeks weighted by eligible impressions
    a = api.post(
        "/api/v1/competitor-analysis", json={"client_id": str(t.clients[0])}, headers=t.analyst.headers
    )
    assert a.status_code == 201, a.text
    weeks = a.json()["analysis"]["own_impression_share"]["weeks"]
    assert weeks
    by_week: dict = defaultdict(lambda: [0, 0.0])
    for _, day, imps, share, _, _ in search:
        if imps:
            monday = day - timedelta(days=day.weekday())
            by_week[monday.isoformat()][0] += imps
            by_week[monday.isoformat()][1] += imps / float(share)
    for w in weeks:
        imps, eligible = by_week[w["week"]]
        assert w["impression_share"] == pytest.approx(imps / eligible, abs=1e-4)
        assert w["evidence"]["impressions"] == imps and w["evidence"]["campaigns"] == 1
    assert json.dumps(a.json()).count("Display remarketing") == 0
