"""Sends and reports under fire: SES unreachable, S3 unreachable while a scheduled report is due, Postgres
restarted between SES accepting an e-mail and the worker recording it. After each: no e-mail sent twice, no report
lost (it is sent, or visibly failed with its reason while its message waits in the DLQ), and the DLQ holds exactly
the poison messages."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto.ses.models import ses_backends
from sqlalchemy import select

from infra.local.aws import ACCOUNT_ID, REGION
from tests.integration.test_reports_schedule import FakeQueue, scheduled  # noqa: F401  (fixture)


def _sent_to(address: str) -> int:
    backend = ses_backends[ACCOUNT_ID][REGION]
    return sum(1 for m in backend.sent_messages if address in getattr(m, "destinations", []))


def _uow(tenant_id: uuid.UUID) -> Any:
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork

    return UnitOfWork(get_sessionmaker(), tenant_id=tenant_id, actor="test")


def _take(stack: Any, queue: str, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """What the code under test enqueued for `tenant_id` on the stack's queue (after commit), to be moved to the
    test's own queue. The queue is shared with the test files that ran before in this worker: their leftovers are
    drained and dropped, so they cannot reach this test's DLQ."""
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    url = stack.resources.queue_urls[queue]
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not msgs:
            return out
        for m in msgs:
            body = json.loads(m["Body"])
            if body.get("tenant_id") == str(tenant_id):
                out.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


class Outage:
    """Makes one method of the process's cached boto3 client raise EndpointConnectionError `times` times (or
    for ever), as when the regional endpoint is unreachable."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, service: str, method: str, times: int | None) -> None:
        from strategist.adapters.aws.clients import aws_client

        client = aws_client(service)
        self.real = getattr(client, method)
        self.left = times
        self.raised = 0
        monkeypatch.setattr(client, method, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.left is None or self.left > 0:
            if self.left is not None:
                self.left -= 1
            self.raised += 1
            raise EndpointConnectionError(endpoint_url="https://unreachable.example")
        return self.real(*args, **kwargs)


@pytest.fixture
def comms_world(make_tenant: Any) -> Any:
    return make_tenant("Delivery faults")


def _queue_mail(world: Any, to: str) -> uuid.UUID:
    from strategist.services.communications import queue_communication

    with _uow(world.tenant_id) as uow:
        return queue_communication(
            uow,
            client_id=world.clients[0],
            message_type="update",
            subject="Weekly update",
            body_text="Spend was on plan.",
            recipients=[to],
            dedupe_key=str(uuid.uuid4()),
        )


def _statuses(world: Any, comm_id: uuid.UUID) -> tuple[str, list[str]]:
    from strategist.adapters.db.models import ClientCommunication, CommunicationDelivery

    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, comm_id)
        rows = uow.session.scalars(
            select(CommunicationDelivery.status).where(CommunicationDelivery.communication_id == comm_id)
        ).all()
        return comm.status, sorted(rows)


def test_ses_unreachable_then_back_sends_once(stack, comms_world, worker_queue, monkeypatch):
    """SES cannot be reached for two attempts: nothing left the building, so the delivery is retried through
    SQS and the e-mail goes out exactly once, marked sent; the DLQ stays empty."""
    to = f"ses-down-{uuid.uuid4().hex[:8]}@example.com"
    comm_id = _queue_mail(comms_world, to)
    q = worker_queue("WorkerCommunicationsFunction")
    for body in _take(stack, "CommunicationsQueue", comms_world.tenant_id):
        q.send(body)
    outage = Outage(monkeypatch, "ses", "send_raw_email", 2)
    q.drain(30)
    assert outage.raised == 2
    assert _sent_to(to) == 1
    assert _statuses(comms_world, comm_id) == ("sent", ["sent"])
    assert q.dlq_depth() == 0


def test_postgres_restarted_between_send_and_record_never_sends_twice(
    stack, comms_world, worker_queue, monkeypatch
):
    """SES accepts the e-mail, then Postgres goes away before the worker records it. Redeliveries find the claim
    and send nothing; the e-mail went out once. Once the claim is stale it is marked 'uncertain' for a person,
    never re-sent."""
    from strategist.adapters.messaging.email import SesEmailSender

    to = f"pg-restart-{uuid.uuid4().hex[:8]}@example.com"
    comm_id = _queue_mail(comms_world, to)
    q = worker_queue("WorkerCommunicationsFunction")
    for body in _take(stack, "CommunicationsQueue", comms_world.tenant_id):
        q.send(body)
    real_send = SesEmailSender.send
    down = threading.Event()

    def send_then_lose_db(self: Any, mail: Any) -> Any:
        result = real_send(self, mail)
        if not down.is_set():
            down.set()
            stack.pg.stop()
            threading.Timer(1.0, stack.pg.start).start()
        return result

    monkeypatch.setattr(SesEmailSender, "send", send_then_lose_db)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and q.depth():
        try:
            q.poller.poll_once(q.binding)
        except Exception:  # the event source's own calls are not at fault; Postgres is
            time.sleep(0.2)
        time.sleep(0.1)
    _wait_for_postgres(stack)
    assert down.is_set() and _sent_to(to) == 1
    _status, rows = _statuses(comms_world, comm_id)
    assert rows in (["sending"], ["uncertain"], ["sent"]), rows
    # later redeliveries (e.g. a redrive of the DLQ) still send nothing
    q.send({"tenant_id": str(comms_world.tenant_id), "communication_id": str(comm_id)})
    q.drain(30)
    assert _sent_to(to) == 1


def _wait_for_postgres(stack: Any) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.owner_url())
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


def _release(world: Any, sid: uuid.UUID, due: dt.datetime) -> list[dict[str, Any]]:
    from strategist.bootstrap import system_unit_of_work
    from strategist.services.reports import schedules

    queue = FakeQueue()
    schedules.run(lambda: system_unit_of_work("test"), queue, now=due + dt.timedelta(hours=48))
    # the job serves every tenant in the worker's stack (earlier files' held reports too): keep this one's
    mine = [m for m in queue.sent if m["tenant_id"] == str(world.tenant_id)]
    assert len(mine) == 1
    return mine


def _report(world: Any, sid: uuid.UUID) -> Any:
    from strategist.adapters.db.models import PerformanceReport

    with _uow(world.tenant_id) as uow:
        reports = list(
            uow.session.scalars(select(PerformanceReport).where(PerformanceReport.schedule_id == sid))
        )
        uow.session.expunge_all()
    assert len(reports) == 1
    return reports[0]


def test_s3_and_ses_unreachable_while_a_report_is_due(stack, scheduled, worker_queue, monkeypatch):  # noqa: F811
    """The weekly report comes due while S3 is unreachable (two attempts) and then SES is (two attempts): the
    report is rendered once it can be stored, e-mailed exactly once, and nothing is dead-lettered."""
    world, sid, _meta, due, _ = scheduled
    to = "cmo@client.example"
    before = _sent_to(to)
    reports_q = worker_queue("WorkerReportsFunction")
    comms_q = worker_queue("WorkerCommunicationsFunction")
    _take(stack, "CommunicationsQueue", world.tenant_id)
    for body in _release(world, sid, due):
        reports_q.send(body)
    s3 = Outage(monkeypatch, "s3", "put_object", 2)
    reports_q.drain(60)
    assert s3.raised == 2 and reports_q.dlq_depth() == 0
    rep = _report(world, sid)
    assert rep.status == "sent" and rep.pdf_key and rep.communication_id
    ses = Outage(monkeypatch, "ses", "send_raw_email", 2)
    for body in _take(stack, "CommunicationsQueue", world.tenant_id):
        comms_q.send(body)
    comms_q.drain(30)
    assert ses.raised == 2 and comms_q.dlq_depth() == 0
    assert _sent_to(to) - before == 1
    # a redelivered report message changes nothing and sends nothing
    reports_q.send({"tenant_id": str(world.tenant_id), "report_id": str(rep.id)})
    reports_q.drain(30)
    assert (
        _report(world, sid).version == rep.version
        and _take(stack, "CommunicationsQueue", world.tenant_id) == []
    )


def test_s3_down_for_every_attempt_dead_letters_the_report_visibly(
    stack,
    scheduled,  # noqa: F811
    worker_queue,
    monkeypatch,
):
    """S3 stays unreachable through all five deliveries: the message, and only it, lands in the DLQ (what
    ReportsDlqAlarm watches), and the report is not lost: it is 'failed' with the reason, for a redrive."""
    world, sid, _meta, due, _ = scheduled
    q = worker_queue("WorkerReportsFunction")
    bodies = _release(world, sid, due)
    for body in bodies:
        q.send(body)
    s3 = Outage(monkeypatch, "s3", "put_object", None)
    q.drain(60)
    assert s3.raised == q.max_receives
    assert q.dlq_depth() == 1 and q.dead_letters() == bodies
    rep = _report(world, sid)
    assert rep.status == "failed" and "EndpointConnectionError" in (rep.error or "")


def test_unreachable_provider_is_transient_a_dropped_connection_is_not(stack, monkeypatch):
    """Regression: EndpointConnectionError/ConnectTimeoutError (no connection was made) used to escape as an
    unknown error, leaving the delivery claimed and, once stale, 'uncertain', so a mail that provably never left
    was never sent. A read timeout may have been accepted and must still not be retried blindly."""
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    from strategist.adapters.aws.clients import aws_client
    from strategist.adapters.messaging.base import TransientSendError
    from strategist.adapters.messaging.email import OutgoingEmail, SesEmailSender, fetch_attachments
    from strategist.adapters.messaging.sms import SnsSmsSender

    mail = OutgoingEmail(
        sender_address="reports@agency.example",
        sender_name="Agency",
        to="x@example.com",
        subject="s",
        text="t",
        html=None,
    )
    for exc in (
        EndpointConnectionError(endpoint_url="https://e"),
        ConnectTimeoutError(endpoint_url="https://e"),
    ):

        def boom(*a: Any, _exc: Exception = exc, **k: Any) -> Any:
            raise _exc

        monkeypatch.setattr(aws_client("ses"), "send_raw_email", boom)
        with pytest.raises(TransientSendError, match="SES unreachable"):
            SesEmailSender("bucket").send(mail)
        monkeypatch.setattr(aws_client("sns"), "publish", boom)
        with pytest.raises(TransientSendError, match="SNS unreachable"):
            SnsSmsSender().send("+15555550100", "hi")
    monkeypatch.setattr(
        aws_client("ses"),
        "send_raw_email",
        lambda **k: (_ for _ in ()).throw(ReadTimeoutError(endpoint_url="https://e")),
    )
    with pytest.raises(ReadTimeoutError):
        SesEmailSender("bucket").send(mail)
    Outage(monkeypatch, "s3", "get_object", None)
    from strategist.adapters.messaging.email import Attachment

    with pytest.raises(TransientSendError, match="EndpointConnectionError"):
        fetch_attachments("bucket", (Attachment("r.pdf", "application/pdf", "reports/r.pdf"),))
