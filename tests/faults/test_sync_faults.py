"""Sync under fire: platform throttling, 5xx, timeouts and expired tokens; retries exhausted and SQS redelivery;
duplicate and concurrent delivery; a worker killed mid-message; Postgres restarted during a sync. After each, the
stored metric rows equal the simulator's ground truth (none lost, none duplicated) and nothing is dead-lettered
except poison."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest

from tests.integration.test_sync import CREDS, HISTORY, _account

pytestmark = pytest.mark.usefixtures("clear_faults", "slept")


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The connectors' back-off sleeps, recorded instead of slept (a Meta throttle asks for 60 s): the waits are
    asserted, the suite stays fast. Everything else (HTTP, SQS, Postgres) is real."""
    from strategist import bootstrap
    from strategist.adapters.platforms import get_connector
    from strategist.adapters.platforms.base import ConnectorOptions

    waits: list[float] = []

    def connect(platform: str, credentials: dict[str, Any], *, base_url: str | None, on_refresh: Any) -> Any:
        return get_connector(
            platform,
            credentials,
            base_url=base_url or bootstrap.get_settings().platform_api_base_url or None,
            on_credentials_refreshed=on_refresh,
            options=ConnectorOptions(sleep=waits.append),
        )

    monkeypatch.setattr(bootstrap, "connect", connect)
    return waits


@pytest.fixture
def clear_faults(stack: Any) -> Any:
    httpx.delete(f"{stack.sim_url}/_sim/faults")
    yield
    httpx.delete(f"{stack.sim_url}/_sim/faults")


def _fault(stack: Any, platform: str, kind: str, count: int = 1, **extra: Any) -> None:
    r = httpx.post(
        f"{stack.sim_url}/_sim/faults", json={"platform": platform, "kind": kind, "count": count, **extra}
    )
    assert r.status_code == 201, r.text


def _take_stack_sync_messages(stack: Any, connection_id: str) -> list[dict[str, Any]]:
    """The API queued the backfill on the stack's SyncQueue; move this connection's chunks to the test's queue."""
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    url = stack.resources.queue_urls["SyncQueue"]
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            return out
        for m in msgs:
            body = json.loads(m["Body"])
            if body.get("connection_id") == connection_id:
                out.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def _connect(
    api: Any, world: Any, stack: Any, platform: str, account_id: str, **extra: Any
) -> tuple[str, list]:
    acct = _account(platform, account_id, **extra)
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [acct]}).raise_for_status()
    body = {"platform": platform, "credentials": CREDS[platform](account_id), "backfill_days": HISTORY}
    r = api.post(f"/api/v1/clients/{world.clients[0]}/connections", json=body, headers=world.owner.headers)
    assert r.status_code == 201, r.text
    conn_id = r.json()["data"]["id"]
    return conn_id, _take_stack_sync_messages(stack, conn_id)


def assert_matches_truth(stack: Any, db: Any, platform: str, account: str, conn_id: str) -> int:
    """Every day the platform served in the synced windows is stored once with the platform's numbers, and
    nothing else is stored. Returns the row count."""
    windows = db(
        "SELECT min(window_start), max(window_end) FROM sync_runs WHERE connection_id = :i AND status = 'ok'",
        i=conn_id,
    )[0]
    assert windows[0] is not None, "no sync run succeeded"
    start, end = windows
    rows = db(
        "SELECT c.external_id, m.date, m.cost, m.impressions, m.clicks, m.conversions FROM campaign_metrics m "
        "JOIN campaigns c ON c.id = m.campaign_id WHERE c.connection_id = :i",
        i=conn_id,
    )
    stored: dict[tuple[str, dt.date], tuple] = {}
    for ext, day, *values in rows:
        assert (ext, day) not in stored, f"duplicate row {ext} {day}"
        stored[(ext, day)] = tuple(values)
    campaigns = {c["id"] for c in _account(platform, account)["campaigns"]}
    expected: dict[tuple[str, dt.date], tuple] = {}
    for ext in campaigns:
        truth = httpx.get(
            f"{stack.sim_url}/_sim/truth",
            params={
                "platform": platform,
                "account_id": account,
                "campaign_id": ext,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        ).json()["days"]
        for d in truth:
            if d["served"]:
                expected[(ext, dt.date.fromisoformat(d["date"]))] = (
                    Decimal(d["spend"]),
                    d["impressions"],
                    d["clicks"],
                    Decimal(str(d["conversions_reported"])),
                )
    assert expected, "the simulator served nothing: the comparison would prove nothing"
    assert set(stored) == set(expected), (
        f"lost {sorted(set(expected) - set(stored))[:5]}, extra {sorted(set(stored) - set(expected))[:5]}"
    )
    assert stored == expected
    return len(stored)


def _conn(api: Any, world: Any, conn_id: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/clients/{world.clients[0]}/connections/{conn_id}", headers=world.owner.headers)
    return r.json()["data"]


def test_throttling_5xx_timeouts_and_expired_token_lose_nothing(api, make_tenant, stack, db, worker_queue):
    """Google answers 429 (Retry-After 0), 503, 504 and revokes the access token mid-backfill: the connector
    retries and refreshes inside the invocation, so every chunk lands once and nothing reaches the DLQ."""
    t = make_tenant()
    account = str(5_580_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "google_ads", account)
    assert len(chunks) == 2
    q = worker_queue("WorkerSyncFunction")
    _fault(stack, "google_ads", "429", 2, retry_after_seconds=0)
    _fault(stack, "google_ads", "5xx", 1)
    _fault(stack, "google_ads", "timeout", 1)
    _fault(stack, "google_ads", "expired_token", 1)
    for body in chunks:
        q.send(body)
    q.drain(60)
    left = httpx.get(f"{stack.sim_url}/_sim/faults").json()["faults"]
    assert all(f["count"] == 0 for f in left) or left == [], left  # every injected fault was hit
    state = _conn(api, t, conn_id)
    assert state["status"] == "active" and state["backfill"]["complete"], state
    assert assert_matches_truth(stack, db, "google_ads", account, conn_id) > 0
    assert q.dlq_depth() == 0


def test_retries_exhausted_then_sqs_redelivery_completes(api, make_tenant, stack, db, worker_queue, slept):
    """Six 429s outlast the connector's five attempts: the message fails, SQS delivers it again, and the second
    delivery completes; the failed run is recorded as transient, the DLQ stays empty."""
    t = make_tenant()
    account = str(100_100_000_000_000 + uuid.uuid4().int % 10**12)
    conn_id, chunks = _connect(api, t, stack, "meta_ads", account)
    q = worker_queue("WorkerSyncFunction")
    _fault(stack, "meta_ads", "429", 6, retry_after_seconds=0)
    for body in chunks:
        q.send(body)
    q.drain(60)
    assert q.binding.failed >= 1 and q.dlq_depth() == 0
    assert len(slept) >= 5 and all(w > 0 for w in slept)  # it waited between attempts, as told
    failed = db(
        "SELECT count(*) FROM sync_runs WHERE connection_id = :i AND status = 'failed' AND error LIKE 'transient%'",
        i=conn_id,
    )[0][0]
    assert failed >= 1
    assert _conn(api, t, conn_id)["backfill"]["complete"]
    assert_matches_truth(stack, db, "meta_ads", account, conn_id)


def test_duplicate_and_concurrent_delivery_write_each_row_once(api, make_tenant, stack, db, worker_queue):
    """Every chunk delivered three times, two of them processed at the same moment by two workers."""
    from infra.local import lambda_runtime
    from infra.local.poller import to_record

    t = make_tenant()
    account = str(5_590_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "google_ads", account)
    q = worker_queue("WorkerSyncFunction")
    for body in chunks:
        q.send(body)
    q.drain(60)
    count = assert_matches_truth(stack, db, "google_ads", account, conn_id)

    spec = stack.template.functions["WorkerSyncFunction"]
    errors: list[BaseException] = []
    results: list[Any] = []

    def invoke(body: dict[str, Any]) -> None:
        msg = {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "r", "Body": json.dumps(body)}
        try:
            results.append(lambda_runtime.invoke(spec, {"Records": [to_record(msg, q.binding.queue_arn)]}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    for body in chunks:
        threads = [threading.Thread(target=invoke, args=(body,)) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        q.send(body)  # and once more, later, through the queue
    q.drain(60)
    assert not errors
    assert all(r == {"batchItemFailures": []} for r in results), results
    assert assert_matches_truth(stack, db, "google_ads", account, conn_id) == count
    assert _conn(api, t, conn_id)["backfill"]["chunks_done"] == 2
    assert q.dlq_depth() == 0


class Killed(BaseException):
    """What the runtime sees when the Lambda sandbox is SIGKILLed: nothing after this line runs."""


@pytest.mark.parametrize("when", ["before_commit", "after_commit"])
def test_worker_killed_mid_message(api, make_tenant, stack, db, worker_queue, monkeypatch, when):
    """The sandbox dies either inside the write transaction (rolled back) or after the commit but before the
    batch response (SQS never hears of success): the redelivered message completes, each row stored once."""
    from infra.local import lambda_runtime
    from strategist.services import sync

    t = make_tenant()
    account = str(5_600_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "google_ads", account)
    q = worker_queue("WorkerSyncFunction")
    kills = {"left": 1}
    if when == "before_commit":
        real = sync.upsert_metrics

        def dying_upsert(*args: Any, **kwargs: Any) -> int:
            n = real(*args, **kwargs)
            if kills["left"]:
                kills["left"] -= 1
                raise Killed
            return n

        monkeypatch.setattr(sync, "upsert_metrics", dying_upsert)
    else:
        module = lambda_runtime.load_module(stack.template.functions["WorkerSyncFunction"])
        real_sync = module.sync_connection

        def dying_sync(*args: Any, **kwargs: Any) -> Any:
            result = real_sync(*args, **kwargs)
            if kills["left"]:
                kills["left"] -= 1
                raise Killed
            return result

        monkeypatch.setattr(module, "sync_connection", dying_sync)
    for body in chunks:
        q.send(body)
    q.drain(60, kill=Killed)
    assert kills["left"] == 0
    assert _conn(api, t, conn_id)["backfill"]["complete"]
    assert assert_matches_truth(stack, db, "google_ads", account, conn_id) > 0
    assert q.dlq_depth() == 0


def test_postgres_restarted_during_a_sync(api, make_tenant, stack, db, worker_queue):
    """The platform call is slow (a 2 s 504, then a retry); Postgres is stopped and started meanwhile. The pooled
    connections are dead: the write either reconnects (pre-ping) or fails and SQS redelivers; either way the
    stored rows equal the ground truth and the API answers again."""
    t = make_tenant()
    account = str(5_610_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "google_ads", account)
    q = worker_queue("WorkerSyncFunction")
    _fault(stack, "google_ads", "timeout", 1, delay_seconds=2)

    def restart() -> None:
        time.sleep(0.5)
        stack.pg.stop()
        time.sleep(0.5)
        stack.pg.start()

    th = threading.Thread(target=restart)
    for body in chunks:
        q.send(body)
    th.start()
    try:
        q.drain(90)
    finally:
        th.join()
    assert _conn(api, t, conn_id)["backfill"]["complete"]
    assert assert_matches_truth(stack, db, "google_ads", account, conn_id) > 0
    assert q.dlq_depth() == 0


def test_poison_sync_messages_and_only_they_reach_the_dlq(api, make_tenant, stack, db, worker_queue):
    """Unparseable bodies are poison: after maxReceiveCount deliveries they, and only they, sit in the DLQ; the
    good chunk next to them completes. The DLQ depth is what SyncDlqAlarm watches (> 0 fires)."""
    t = make_tenant()
    account = str(5_620_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "google_ads", account)
    q = worker_queue("WorkerSyncFunction")
    poison = ["not json", json.dumps({"tenant_id": "nope", "connection_id": "x"})]
    for body in poison:
        q.send(body)
    for body in chunks:
        q.send(body)
    q.drain(60)
    assert q.dlq_depth() == len(poison)  # SyncDlqAlarm: ApproximateNumberOfMessagesVisible > 0
    dead = q.sqs.receive_message(
        QueueUrl=q.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
    )["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(poison)
    assert _conn(api, t, conn_id)["backfill"]["complete"]
    assert_matches_truth(stack, db, "google_ads", account, conn_id)


def test_client_side_read_timeout_is_retried(api, make_tenant, stack, db, worker_queue, monkeypatch, caplog):
    """The platform accepts the connection and then says nothing for longer than the connector's read timeout
    (2 s here, 60 s in production): httpx raises ReadTimeout, the connector retries, and the backfill completes
    with the ground truth's rows."""
    from strategist import bootstrap
    from strategist.adapters.platforms import get_connector
    from strategist.adapters.platforms.base import ConnectorOptions

    def connect(platform: str, credentials: dict[str, Any], *, base_url: str | None, on_refresh: Any) -> Any:
        return get_connector(
            platform,
            credentials,
            base_url=base_url or bootstrap.get_settings().platform_api_base_url or None,
            on_credentials_refreshed=on_refresh,
            options=ConnectorOptions(sleep=lambda s: None, timeout=2.0),
        )

    monkeypatch.setattr(bootstrap, "connect", connect)
    t = make_tenant()
    account = str(3_000_000_000 + uuid.uuid4().int % 1_000_000)
    conn_id, chunks = _connect(api, t, stack, "linkedin_ads", account)
    q = worker_queue("WorkerSyncFunction")
    _fault(stack, "linkedin_ads", "5xx", 1, delay_seconds=3)  # answered only after the client gave up
    for body in chunks:
        q.send(body)
    with caplog.at_level("WARNING", logger="strategist.adapters.platforms.base"):
        q.drain(60)
    assert any(
        "timeout: ReadTimeout" in r.getMessage() for r in caplog.records
    )  # it did give up, then retried
    assert _conn(api, t, conn_id)["backfill"]["complete"]
    assert_matches_truth(stack, db, "linkedin_ads", account, conn_id)
    assert q.dlq_depth() == 0
