"""The scheduled-report flow against the local stack: a due schedule becomes exactly one report per period even
when the job runs twice at once; the report is held while a platform can still restate the period, released when
final (or, past its hold deadline, as provisional); the worker renders and e-mails it through the communications
flow, and a redelivered message sends nothing twice."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import uuid

import pytest
from sqlalchemy import func, select, update

from tests.functions.test_reports_api import TODAY, add_connection, seed_metrics


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.lock = threading.Lock()

    def send(self, messages: list[dict]) -> int:
        with self.lock:
            self.sent.extend(messages)
        return len(messages)


def _mine(queue: FakeQueue, world) -> list[dict]:
    """The job serves every tenant in the shared stack: other tests' held reports may be released in the same run."""
    return [m for m in queue.sent if m["tenant_id"] == str(world.tenant_id)]


def _uow():
    from strategist.bootstrap import system_unit_of_work

    return system_unit_of_work("test")


@pytest.fixture
def scheduled(api, make_tenant):
    """A weekly schedule of client 0, due an hour ago; Google synced long after the week, Meta only just."""
    from strategist.adapters.db.models import Client, ReportSchedule

    world = make_tenant()
    seed_metrics(world)
    last_sunday = TODAY - dt.timedelta(days=TODAY.isoweekday())
    week_end_utc = dt.datetime.combine(last_sunday + dt.timedelta(days=1), dt.time(), dt.UTC)
    add_connection(
        world, "google_ads", data_through=last_sunday, data_as_of=week_end_utc + dt.timedelta(hours=16)
    )
    meta = add_connection(
        world, "meta_ads", data_through=last_sunday, data_as_of=week_end_utc + dt.timedelta(hours=2)
    )
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        uow.session.execute(
            update(Client).where(Client.id == world.clients[0]).values(contact_emails=["cmo@client.example"])
        )
    body = {"client_id": str(world.clients[0]), "frequency": "weekly", "day_of_week": TODAY.isoweekday(),
            "send_hour": 0, "max_hold_hours": 48}  # fmt: skip
    r = api.post("/api/v1/report-schedules", json=body, headers=world.analyst.headers)
    assert r.status_code == 201, r.text
    sid = uuid.UUID(r.json()["schedule"]["id"])
    due = dt.datetime.combine(TODAY, dt.time(), dt.UTC)  # today 00:00 UTC: the run that reports last week
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        uow.session.execute(update(ReportSchedule).where(ReportSchedule.id == sid).values(next_run_at=due))
    return world, sid, meta, due, week_end_utc


def _reports(world, sid):
    from strategist.adapters.db.models import PerformanceReport

    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        return list(
            uow.session.scalars(select(PerformanceReport).where(PerformanceReport.schedule_id == sid))
        )


def test_one_report_per_period_held_until_final_then_sent_once(scheduled):
    from strategist.adapters.db.models import ClientCommunication, PlatformConnection, ReportSchedule
    from strategist.services.reports import schedules, service

    world, sid, meta, due, week_end = scheduled
    queue = FakeQueue()
    now = due + dt.timedelta(hours=1)

    # two jobs at once, then a third: one report for the period
    threads = [
        threading.Thread(target=schedules.run, args=(_uow, queue), kwargs={"now": now}) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    schedules.run(_uow, queue, now=now)
    reports = _reports(world, sid)
    assert len(reports) == 1
    rep = reports[0]
    assert (rep.period_end - rep.period_start).days == 6 and rep.period_end == TODAY - dt.timedelta(
        days=TODAY.isoweekday()
    )
    # Meta's 7-day attribution window is still open: held, nothing queued, the reason recorded
    assert rep.status == "held" and _mine(queue, world) == []
    meta_row = next(c for c in rep.finality["connections"] if c["platform"] == "meta_ads")
    google_row = next(c for c in rep.finality["connections"] if c["platform"] == "google_ads")
    assert not meta_row["final"] and google_row["final"] and meta_row["lag_hours"] == 168
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        s = uow.session.get(ReportSchedule, sid)
        assert s.next_run_at == due + dt.timedelta(days=7)

    # Meta syncs after its window closed: the next run releases it as final
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        uow.session.execute(update(PlatformConnection).where(PlatformConnection.id == meta)
                            .values(data_as_of=week_end + dt.timedelta(days=7, hours=1)))  # fmt: skip
    counts = schedules.run(_uow, queue, now=now + dt.timedelta(hours=1))
    assert counts["final"] >= 1 and len(_mine(queue, world)) == 1
    msg = _mine(queue, world)[0]

    # the worker (through its Lambda handler, twice: a redelivery) renders and e-mails it once
    first = _invoke_worker(msg)
    second = _invoke_worker(msg)
    assert first == {"batchItemFailures": []} and second == {"batchItemFailures": []}
    rep = _reports(world, sid)[0]
    assert rep.status == "sent" and not rep.provisional and rep.version == 1 and rep.communication_id
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        comms = list(
            uow.session.scalars(
                select(ClientCommunication).where(ClientCommunication.client_id == world.clients[0])
            )
        )
    assert len(comms) == 1 and comms[0].metadata_["report_id"] == str(rep.id)
    assert comms[0].attachments[0]["s3_key"] == rep.pdf_key
    with _uow() as uow:
        assert service.process_message(uow, msg)["outcome"] == "already sent"


def test_past_the_hold_deadline_it_goes_out_provisional(scheduled):
    from strategist.services.reports import schedules, service

    world, sid, _meta, due, _ = scheduled
    queue = FakeQueue()
    schedules.run(_uow, queue, now=due + dt.timedelta(hours=1))
    assert _reports(world, sid)[0].status == "held"
    schedules.run(_uow, queue, now=due + dt.timedelta(hours=47))
    assert _reports(world, sid)[0].status == "held" and _mine(queue, world) == []
    counts = schedules.run(_uow, queue, now=due + dt.timedelta(hours=48))
    assert counts["provisional"] >= 1 and len(_mine(queue, world)) == 1
    with _uow() as uow:
        assert service.process_message(uow, _mine(queue, world)[0])["outcome"] == "rendered and sent"
    rep = _reports(world, sid)[0]
    assert rep.status == "sent" and rep.provisional
    assert rep.data["provisional"] and any("meta_ads" in r for r in rep.data["provisional_reasons"])
    methodology = " ".join(rep.data["methodology"])
    assert "provisional" in methodology and "7 days" in methodology


def test_a_stalled_job_catches_up_each_missed_period_once(scheduled):
    from strategist.adapters.db.models import PerformanceReport, ReportSchedule
    from strategist.services.reports import schedules

    world, sid, _meta, due, _ = scheduled
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        uow.session.execute(update(ReportSchedule).where(ReportSchedule.id == sid)
                            .values(next_run_at=due - dt.timedelta(days=21)))  # fmt: skip
    queue = FakeQueue()
    schedules.run(_uow, queue, now=due + dt.timedelta(hours=1))
    schedules.run(_uow, queue, now=due + dt.timedelta(hours=2))
    reports = sorted(_reports(world, sid), key=lambda r: r.period_start)
    assert len(reports) == 4  # three missed weeks and this one, one report each
    assert [(b.period_start - a.period_start).days for a, b in itertools.pairwise(reports)] == [
        7,
        7,
        7,
    ]
    with _uow() as uow:
        uow.set_tenant(world.tenant_id)
        n = uow.session.scalar(
            select(func.count()).select_from(PerformanceReport).where(PerformanceReport.schedule_id == sid)
        )
    assert n == 4


def test_last_failed_attempt_is_recorded_on_the_report(api, make_tenant, monkeypatch):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from strategist.services.reports import render

    world = make_tenant()
    body = {"client_id": str(world.clients[0]), "period": "last_week", "run_async": True}
    rep = api.post("/api/v1/reports/generate", json=body, headers=world.analyst.headers).json()["report"]
    msg = {"tenant_id": str(world.tenant_id), "report_id": rep["id"]}

    def boom(*args, **kwargs):
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(render, "render", boom)
    with pytest.raises(BatchProcessingError):  # a batch of one that failed: SQS delivers it again
        _invoke_worker(msg, receives=1)
    got = api.get(f"/api/v1/reports/{rep['id']}", headers=world.analyst.headers).json()["report"]
    assert got["status"] == "queued" and got["error"] is None
    with pytest.raises(
        BatchProcessingError
    ):  # the last try: next stop the DLQ, and the reason is on the report
        _invoke_worker(msg, receives=5)
    got = api.get(f"/api/v1/reports/{rep['id']}", headers=world.viewer.headers).json()["report"]
    assert got["status"] == "failed" and got["error"] == "RuntimeError: pango exploded"


def _invoke_worker(body: dict, receives: int = 1) -> dict:
    from infra.local import lambda_runtime
    from infra.template import load_template

    spec = next(s for s in load_template().functions.values() if s.directory.name == "worker_reports")
    handler = lambda_runtime.load_handler(spec)
    event = {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "x",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": str(receives)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:reports",
                "awsRegion": "us-east-1",
            }
        ]
    }
    return handler(event, None)
