"""Connections and metric sync end to end: the API stores encrypted credentials and queues a backfill, the
worker pulls through the real connectors from the simulated platform, and the stored rows reconcile with the
simulator's ground truth; redelivery changes nothing; a broken token marks the connection broken with the
platform's reason, and reconnecting repairs it."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import boto3
import httpx
import pytest
from sqlalchemy import create_engine, text

from infra.local import lambda_runtime
from infra.local.poller import Poller, QueueBinding

HISTORY = 100


def _account(platform: str, account_id: str, currency: str = "USD", zone: str = "America/New_York") -> dict:
    return {
        "platform": platform,
        "account_id": account_id,
        "name": f"Test {platform}",
        "currency": currency,
        "time_zone": zone,
        "history_days": HISTORY,
        "campaigns": [
            {"id": f"{account_id[:6]}{i}", "name": f"Campaign {i}", "budget": str(50 + 25 * i)}
            for i in range(3)
        ],
    }


CREDS = {
    "google_ads": lambda a: {
        "customer_id": a,
        "developer_token": "dev",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "1//rt",
    },
    "meta_ads": lambda a: {"ad_account_id": f"act_{a}", "access_token": "EAAtest"},
    "linkedin_ads": lambda a: {
        "ad_account_id": a,
        "access_token": "AQVtest",
        "client_id": "cid",
        "client_secret": "cs",
        "refresh_token": "AQXrt",
    },
    "tiktok_ads": lambda a: {
        "advertiser_id": a,
        "access_token": "act.test",
        "app_id": "app",
        "secret": "sec",
        "refresh_token": "rft.test",
    },
}


@pytest.fixture(scope="module")
def drain(stack):
    template = stack.template
    spec = template.functions["WorkerSyncFunction"]
    trigger = next(t for t in template.sqs_triggers if t.function == "WorkerSyncFunction")
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    binding = QueueBinding(
        trigger,
        stack.resources.queue_urls[trigger.queue],
        stack.resources.attributes[(trigger.queue, "Arn")],
        lambda event: lambda_runtime.invoke(spec, event),
    )
    poller = Poller(sqs, [binding], wait_s=0)

    def run(max_batches: int = 500) -> list[dict]:
        bodies = []
        for _ in range(max_batches):
            msgs = sqs.receive_message(
                QueueUrl=binding.queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
            )
            if not msgs.get("Messages"):
                return bodies
            m = msgs["Messages"][0]
            bodies.append(json.loads(m["Body"]))
            sqs.change_message_visibility(
                QueueUrl=binding.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
            poller.poll_once(binding)
        raise AssertionError("queue did not drain")

    return run


def _connect(api, world, stack, platform: str, account_id: str, **extra):
    acct = _account(platform, account_id, **extra)
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [acct]}).raise_for_status()
    body = {"platform": platform, "credentials": CREDS[platform](account_id), "backfill_days": HISTORY}
    return api.post(f"/api/v1/clients/{world.clients[0]}/connections", json=body, headers=world.owner.headers)


def _db(stack, sql: str, **params):
    engine = create_engine(stack.owner_url())
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    engine.dispose()
    return rows


def test_backfill_reconciles_with_ground_truth(api, make_tenant, stack, drain):
    t = make_tenant()
    account = str(5_550_000_000 + uuid.uuid4().int % 1_000_000)
    r = _connect(api, t, stack, "google_ads", account)
    assert r.status_code == 201, r.text
    conn = r.json()["data"]
    assert (
        conn["currency"] == "USD" and conn["time_zone"] == "America/New_York" and conn["status"] == "active"
    )
    assert conn["backfill"]["chunks_total"] == 2 and not conn["backfill"]["complete"]
    assert "refresh_token" not in r.text and "1//rt" not in r.text
    stored = _db(stack, "SELECT credentials::text FROM platform_connections WHERE id = :i", i=conn["id"])[0][
        0
    ]
    assert "1//rt" not in stored and "ciphertext" in stored  # only the KMS envelope is at rest

    drain()
    got = api.get(f"/api/v1/clients/{t.clients[0]}/connections/{conn['id']}", headers=t.owner.headers).json()[
        "data"
    ]
    assert got["backfill"]["complete"] and got["backfill"]["chunks_done"] == 2
    assert got["last_sync_status"] == "ok" and got["data_as_of"] is not None

    # every stored day equals what the platform reported for it
    rows = _db(
        stack,
        "SELECT c.external_id, m.date, m.cost, m.impressions, m.clicks, m.conversions, m.currency, m.time_zone, "
        "m.attribution_window FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
        "WHERE c.connection_id = :i",
        i=conn["id"],
    )
    assert rows and {r[6] for r in rows} == {"USD"} and {r[7] for r in rows} == {"America/New_York"}
    assert {r[8] for r in rows} == {"google_ads_default"}
    by_campaign: dict[str, dict] = {}
    for ext, day, cost, imps, clicks, conv, *_ in rows:
        by_campaign.setdefault(ext, {})[day] = (cost, imps, clicks, conv)
    for ext, days in by_campaign.items():
        start, end = min(days), max(days)
        truth = httpx.get(
            f"{stack.sim_url}/_sim/truth",
            params={
                "platform": "google_ads",
                "account_id": account,
                "campaign_id": ext,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        ).json()["days"]
        served = [d for d in truth if d["served"]]
        assert len(served) == len(days)
        for d in served:
            cost, imps, clicks, conv = days[dt.date.fromisoformat(d["date"])]
            assert cost == Decimal(d["spend"]) and imps == d["impressions"] and clicks == d["clicks"]
            assert conv == Decimal(str(d["conversions_reported"]))
    count = len(rows)

    # redelivery of every chunk: nothing duplicated, nothing lost
    queue = stack.resources.queue_urls["SyncQueue"]
    chunks = _db(
        stack, "SELECT window_start, window_end FROM sync_runs WHERE connection_id = :i", i=conn["id"]
    )
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    for start, end in chunks:
        body = {
            "tenant_id": str(t.tenant_id),
            "connection_id": conn["id"],
            "kind": "backfill",
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        }
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    drain()
    after = _db(
        stack,
        "SELECT count(*) FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
        "WHERE c.connection_id = :i",
        i=conn["id"],
    )[0][0]
    assert after == count
    state = api.get(
        f"/api/v1/clients/{t.clients[0]}/connections/{conn['id']}", headers=t.owner.headers
    ).json()
    assert state["data"]["backfill"]["chunks_done"] == 2


def test_broken_token_marks_connection_and_reconnect_repairs(api, make_tenant, stack, drain):
    t = make_tenant()
    account = str(100_000_000_000_000 + uuid.uuid4().int % 10**12)
    r = _connect(api, t, stack, "meta_ads", account)
    assert r.status_code == 201, r.text
    conn_id = r.json()["data"]["id"]
    drain()
    # the token is revoked on the platform side: the next sync learns it and marks the connection broken
    httpx.post(
        f"{stack.sim_url}/_sim/faults", json={"platform": "meta_ads", "kind": "expired_token", "count": 50}
    )
    queued = api.post(f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}/sync", headers=t.owner.headers)
    assert queued.status_code == 202
    drain()
    httpx.delete(f"{stack.sim_url}/_sim/faults")
    conn = api.get(f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}", headers=t.owner.headers).json()[
        "data"
    ]
    assert conn["status"] == "broken" and conn["broken_reason"]
    assert conn["missing_data"] and "Reconnect" in conn["missing_data"]
    events = _db(
        stack,
        "SELECT count(*) FROM outbox WHERE event_type = 'connection.broken' AND detail->>'connection_id' = :i",
        i=conn_id,
    )
    assert events[0][0] == 1
    # sync now refuses with a reason, reconnect (same account) repairs
    assert (
        api.post(
            f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}/sync", headers=t.owner.headers
        ).status_code
        == 409
    )
    wrong = api.post(
        f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}/reconnect",
        json={"credentials": CREDS["meta_ads"]("999999999999999")},
        headers=t.owner.headers,
    )
    assert wrong.status_code == 422
    fixed = api.post(
        f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}/reconnect",
        json={"credentials": {**CREDS["meta_ads"](account), "access_token": "EAAnew"}},
        headers=t.owner.headers,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["data"]["status"] == "active" and fixed.json()["data"]["missing_data"] is None
    drain()
    test = api.post(f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}/test", headers=t.owner.headers)
    assert test.status_code == 200 and test.json()["data"]["ok"] is True


def test_transient_errors_retry_then_succeed(api, make_tenant, stack, drain):
    t = make_tenant()
    account = str(7_200_000_000_000_000_000 + uuid.uuid4().int % 10**15)
    r = _connect(api, t, stack, "tiktok_ads", account, currency="JPY", zone="Asia/Tokyo")
    assert r.status_code == 201, r.text
    conn_id = r.json()["data"]["id"]
    httpx.post(f"{stack.sim_url}/_sim/faults", json={"platform": "tiktok_ads", "kind": "5xx", "count": 2})
    drain()
    conn = api.get(f"/api/v1/clients/{t.clients[0]}/connections/{conn_id}", headers=t.owner.headers).json()[
        "data"
    ]
    assert conn["status"] == "active" and conn["backfill"]["complete"]
    yen = _db(
        stack,
        "SELECT DISTINCT m.currency FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
        "WHERE c.connection_id = :i",
        i=conn_id,
    )
    assert yen == [("JPY",)]


def test_bad_credentials_and_duplicates(api, make_tenant, stack):
    t = make_tenant()
    r = api.post(
        f"/api/v1/clients/{t.clients[0]}/connections",
        json={"platform": "google_ads", "credentials": {"customer_id": "12"}},
        headers=t.owner.headers,
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["fields"]}
    assert any(f.startswith("body.credentials.") for f in fields)
    r = api.post(
        f"/api/v1/clients/{t.clients[0]}/connections",
        json={"platform": "email", "credentials": {}},
        headers=t.owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "body.platform"
    account = str(5_560_000_000 + uuid.uuid4().int % 1_000_000)
    assert _connect(api, t, stack, "google_ads", account).status_code == 201
    assert _connect(api, t, stack, "google_ads", account).status_code == 409


def test_connections_are_tenant_and_client_scoped(api, make_tenant, stack):
    a, b = make_tenant(), make_tenant()
    account = str(5_570_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id = _connect(api, a, stack, "google_ads", account).json()["data"]["id"]
    base = f"/api/v1/clients/{a.clients[0]}/connections"
    for actor in (b.owner, b.owner_key):
        assert api.get(base, headers=actor.headers).status_code == 404
        assert api.get(f"{base}/{conn_id}", headers=actor.headers).status_code == 404
        assert api.delete(f"{base}/{conn_id}", headers=actor.headers).status_code == 404
    # a viewer of client 0 sees its health, cannot change it; client 1's connections are invisible to it
    assert api.get(base, headers=a.viewer.headers).status_code == 200
    assert api.post(f"{base}/{conn_id}/sync", headers=a.viewer.headers).status_code == 403
    assert (
        api.get(f"/api/v1/clients/{a.clients[1]}/connections", headers=a.viewer_key.headers).status_code
        == 404
    )
    # the connection moved to another client's URL is not found
    assert (
        api.get(f"/api/v1/clients/{a.clients[1]}/connections/{conn_id}", headers=a.owner.headers).status_code
        == 404
    )
    assert api.delete(f"{base}/{conn_id}", headers=a.analyst.headers).status_code == 403
    assert api.delete(f"{base}/{conn_id}", headers=a.admin.headers).status_code == 204
    assert api.get(base, headers=a.owner.headers).json()["data"] == []
