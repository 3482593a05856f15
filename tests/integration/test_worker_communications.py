"""Communications end to end below the API: queue_communication in a caller's transaction, the worker's
exactly-once delivery through SES (moto), SNS (moto) and signed webhooks, consent and the dead-letter path."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any

import boto3
import httpx
import pytest
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from sqlalchemy import select

from infra.local.aws import ACCOUNT_ID, REGION
from strategist import bootstrap
from strategist.adapters.db.models import (
    ClientCommunication,
    CommunicationConsent,
    CommunicationDelivery,
    CommunicationSettings,
)
from strategist.adapters.messaging.email import SesEmailSender
from strategist.adapters.messaging.sms import SnsSmsSender
from strategist.adapters.messaging.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    verify_signature,
)
from strategist.domain.errors import ValidationFailed
from strategist.services.communications import queue_communication
from strategist.services.communications.delivery import (
    DeliveryIncomplete,
    PoisonMessage,
    Senders,
    deliver,
    new_webhook_secret,
    secret_context,
)


def _uow(tenant_id: uuid.UUID) -> Any:
    from strategist.adapters.db.engine import get_sessionmaker
    from strategist.adapters.db.uow import UnitOfWork

    return UnitOfWork(get_sessionmaker(), tenant_id=tenant_id, actor="test")


def _drain(stack: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    from strategist.config import get_settings

    url = get_settings().queue_urls["communications"]
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


@pytest.fixture(scope="module")
def world(make_tenant_module: Any) -> Any:
    return make_tenant_module("Comms agency")


def test_queue_writes_rows_and_enqueues_after_commit(stack: Any, world: Any) -> None:
    _drain(stack)
    key = f"t-{uuid.uuid4()}"
    with _uow(world.tenant_id) as uow:
        cid = queue_communication(
            uow,
            client_id=world.clients[0],
            message_type="alert",
            subject="CPA up 40 %",
            body_text="CPA rose.",
            channels=("email", "in_app"),
            recipients=["Ops@Example.COM"],
            dedupe_key=key,
            metadata={"alert_id": "a1"},
        )
        assert _drain(stack) == []  # nothing before commit
    msgs = _drain(stack)
    assert {"tenant_id": str(world.tenant_id), "communication_id": str(cid)} in msgs
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, cid)
        assert comm is not None and comm.status == "queued" and comm.metadata_ == {"alert_id": "a1"}
        deliveries = uow.session.scalars(
            select(CommunicationDelivery).where(CommunicationDelivery.communication_id == cid)
        ).all()
        assert sorted((d.channel, d.recipient, d.status) for d in deliveries) == [
            ("email", "Ops@example.com", "pending"),
            ("in_app", "in_app", "pending"),
        ]
        # same dedupe key: same id, nothing new
        again = queue_communication(
            uow,
            client_id=world.clients[0],
            message_type="alert",
            subject="other",
            body_text="x",
            dedupe_key=key,
        )
        assert again == cid
    assert _drain(stack) == []


def test_rolled_back_caller_never_enqueues(stack: Any, world: Any) -> None:
    _drain(stack)
    key = f"t-{uuid.uuid4()}"
    with pytest.raises(RuntimeError), _uow(world.tenant_id) as uow:
        queue_communication(
            uow, client_id=None, message_type="report", subject="Weekly", body_text="b", dedupe_key=key
        )
        raise RuntimeError("caller fails after queueing")
    assert _drain(stack) == []
    with _uow(world.tenant_id) as uow:
        assert (
            uow.session.scalar(select(ClientCommunication).where(ClientCommunication.dedupe_key == key))
            is None
        )


def test_tenant_level_defaults_to_owners_and_admins(stack: Any, world: Any) -> None:
    with _uow(world.tenant_id) as uow:
        cid = queue_communication(
            uow,
            client_id=None,
            message_type="alert",
            subject="Agency",
            body_text="b",
            dedupe_key=str(uuid.uuid4()),
        )
        got = sorted(
            uow.session.scalars(
                select(CommunicationDelivery.recipient).where(CommunicationDelivery.communication_id == cid)
            )
        )
    assert got == sorted([world.owner.email, world.admin.email])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject": "Hi\r\nBcc: victim@example.com"}, "subject"),
        ({"recipients": ["a@example.com\r\nBcc: x@example.com"]}, "recipients[0]"),
        ({"recipients": ["not an address"]}, "recipients[0]"),
        ({"channels": ("fax",)}, "channels"),
        ({"recipients": ["+15551234567"]}, "recipients[0]"),  # sms recipient, channels = email only
        ({"channels": ("sms",)}, "recipients"),  # no number configured
        ({"message_type": "Bad Type"}, "message_type"),
        ({"attachments": [{"filename": "a.pdf", "content_type": "application/pdf"}]}, "attachments[0]"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    stack: Any, world: Any, kwargs: dict, field: str
) -> None:
    key = f"bad-{uuid.uuid4()}"
    args: dict[str, Any] = {
        "client_id": world.clients[0],
        "message_type": "alert",
        "subject": "s",
        "body_text": "b",
        "dedupe_key": key,
        **kwargs,
    }
    with pytest.raises(ValidationFailed) as err, _uow(world.tenant_id) as uow:
        queue_communication(uow, **args)
    assert err.value.fields[0].field == field
    with _uow(world.tenant_id) as uow:
        assert (
            uow.session.scalar(select(ClientCommunication).where(ClientCommunication.dedupe_key == key))
            is None
        )


def test_far_future_schedule_is_stored_not_enqueued(stack: Any, world: Any) -> None:
    _drain(stack)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    with _uow(world.tenant_id) as uow:
        cid = queue_communication(
            uow,
            client_id=world.clients[1],
            message_type="update",
            subject="Later",
            body_text="b",
            recipients=["x@example.com"],
            dedupe_key=str(uuid.uuid4()),
            scheduled_at=when,
        )
    assert _drain(stack) == []
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, cid)
        assert comm is not None and comm.status == "scheduled" and comm.enqueued_at is None


# -- the worker ------------------------------------------------------------------------------------------------
def _sent_to(address: str) -> list[str]:
    backend = ses_backends[ACCOUNT_ID][REGION]
    return [m.raw_data for m in backend.sent_messages if address in getattr(m, "destinations", [])]


class Receiver:
    """A webhook receiver behind httpx.MockTransport: fails the first `fail_first` posts with 503."""

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.calls: list[httpx.Request] = []
        self.accepted: dict[str, dict] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if len(self.calls) <= self.fail_first:
            return httpx.Response(503)
        ok = verify_signature(
            self.secret,
            timestamp=request.headers[TIMESTAMP_HEADER],
            body=request.content,
            signature=request.headers[SIGNATURE_HEADER],
        )
        if not ok:
            return httpx.Response(401)
        self.accepted.setdefault(request.headers[DELIVERY_HEADER], json.loads(request.content))
        return httpx.Response(200, headers={"X-Request-Id": f"rcv-{len(self.calls)}"})


def _senders(receiver: Receiver | None = None, resolve: Any = None) -> Senders:
    from strategist.config import get_settings

    settings = get_settings()
    return Senders(
        email=SesEmailSender(settings.data_bucket),
        sms=SnsSmsSender(),
        webhook=WebhookSender(
            transport=httpx.MockTransport(receiver or Receiver("x")),
            resolve=resolve or (lambda host, port: ["93.184.216.34"]),
            wait_multiplier=0.001,
        ),
        cipher=bootstrap.credential_cipher,
        key_ring=bootstrap.key_ring,
        sender_email=settings.sender_email,
        public_base_url=settings.public_base_url,
    )


def _factory() -> Any:
    return bootstrap.system_unit_of_work("test-worker")


def _queue(world: Any, **kwargs: Any) -> uuid.UUID:
    args: dict[str, Any] = {
        "client_id": world.clients[0],
        "message_type": "update",
        "subject": "Weekly update",
        "body_text": "Spend was on plan.\n\nCPA fell 12 %.",
        "dedupe_key": str(uuid.uuid4()),
        **kwargs,
    }
    with _uow(world.tenant_id) as uow:
        return queue_communication(uow, **args)


def _deliveries(world: Any, comm_id: uuid.UUID) -> dict[tuple[str, str], Any]:
    with _uow(world.tenant_id) as uow:
        rows = uow.session.scalars(
            select(CommunicationDelivery).where(CommunicationDelivery.communication_id == comm_id)
        ).all()
        uow.session.expunge_all()
        return {(d.channel, d.recipient): d for d in rows}


def _set_secret(world: Any) -> str:
    secret = new_webhook_secret()
    blob = bootstrap.credential_cipher().encrypt({"secret": secret}, context=secret_context(world.tenant_id))
    with _uow(world.tenant_id) as uow:
        row = uow.session.get(CommunicationSettings, world.tenant_id)
        if row is None:
            uow.session.add(CommunicationSettings(tenant_id=world.tenant_id, webhook_secret=blob))
        else:
            row.webhook_secret = blob
    return secret


def test_email_redelivered_and_concurrent_sends_once(stack: Any, world: Any) -> None:
    to = f"client-{uuid.uuid4().hex[:8]}@example.com"
    comm_id = _queue(world, recipients=[to], channels=("email", "in_app"))
    body = json.dumps({"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)})
    senders = _senders()
    # two workers holding the same message at once, then a redelivery
    errors: list[BaseException] = []

    def run() -> None:
        try:
            deliver(body, uow_factory=_factory, senders=senders)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    again = deliver(body, uow_factory=_factory, senders=senders, receive_count=2)
    assert again.sent == 0
    sent = _sent_to(to)
    assert len(sent) == 1
    from email import message_from_string
    from email.policy import default as default_policy

    mail = message_from_string(sent[0], policy=default_policy)
    assert mail["List-Unsubscribe"].startswith(
        "<http"
    ) and "/api/v1/communications/unsubscribe?token=" in str(mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Subject"] == "Weekly update" and mail["To"] == to
    assert "CPA fell 12 %." in mail.get_body(("plain",)).get_content()
    assert "<p>CPA fell 12 %.</p>" in mail.get_body(("html",)).get_content()
    rows = _deliveries(world, comm_id)
    assert rows[("email", to)].status == "sent" and rows[("email", to)].attempts == 1
    assert rows[("email", to)].provider_message_id
    assert rows[("in_app", "in_app")].status == "sent"
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, comm_id)
        assert comm is not None and comm.status == "sent" and comm.completed_at is not None


def test_unsubscribed_recipient_is_suppressed_and_sms_needs_opt_in(stack: Any, world: Any) -> None:
    out = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    stay = f"stay-{uuid.uuid4().hex[:8]}@example.com"
    phone = f"+1555{uuid.uuid4().int % 10_000_000:07d}"
    with _uow(world.tenant_id) as uow:
        uow.session.add(
            CommunicationConsent(
                tenant_id=world.tenant_id, channel="email", recipient=out, status="opted_out", source="test"
            )
        )
    comm_id = _queue(world, recipients=[out, stay, phone], channels=("email", "sms"))
    result = deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)},
        uow_factory=_factory,
        senders=_senders(),
    )
    assert (result.sent, result.suppressed) == (1, 2)
    rows = _deliveries(world, comm_id)
    assert rows[("email", out)].status == "suppressed"
    assert rows[("email", out)].last_error == "suppressed: unsubscribed"
    assert rows[("sms", phone)].last_error == "suppressed: no SMS opt-in on record"
    assert _sent_to(out) == [] and len(_sent_to(stay)) == 1
    # with an opt-in the SMS goes out through SNS
    with _uow(world.tenant_id) as uow:
        uow.session.add(
            CommunicationConsent(
                tenant_id=world.tenant_id, channel="sms", recipient=phone, status="opted_in", source="test"
            )
        )
    comm2 = _queue(world, recipients=[phone], channels=("sms",))
    deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm2)},
        uow_factory=_factory,
        senders=_senders(),
    )
    sms = [m for m in sns_backends[ACCOUNT_ID][REGION].sms_messages.values() if m[0] == phone]
    assert len(sms) == 1 and sms[0][1].startswith("Weekly update: Spend was on plan.")
    assert _deliveries(world, comm2)[("sms", phone)].status == "sent"


def test_webhook_retried_sends_once_and_verifies(stack: Any, world: Any) -> None:
    secret = _set_secret(world)
    url = "https://hooks.example.com/strategist"
    receiver = Receiver(secret, fail_first=2)  # two 503s, then success inside tenacity's three attempts
    comm_id = _queue(world, recipients=[url], channels=("webhook",), metadata={"report_id": "r1"})
    body = {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)}
    deliver(body, uow_factory=_factory, senders=_senders(receiver))
    deliver(body, uow_factory=_factory, senders=_senders(receiver), receive_count=2)  # redelivery
    assert len(receiver.calls) == 3 and len(receiver.accepted) == 1
    (payload,) = receiver.accepted.values()
    assert payload["communication_id"] == str(comm_id) and payload["metadata"] == {"report_id": "r1"}
    row = _deliveries(world, comm_id)[("webhook", url)]
    assert row.status == "sent" and row.provider_message_id == "rcv-3"
    # a tampered body or a wrong secret does not verify; an old timestamp does not either
    req = receiver.calls[-1]
    ts, sig = req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER]
    assert verify_signature(secret, timestamp=ts, body=req.content, signature=sig)
    assert not verify_signature(secret, timestamp=ts, body=req.content.replace(b"r1", b"r2"), signature=sig)
    assert not verify_signature("whsec_other", timestamp=ts, body=req.content, signature=sig)
    assert not verify_signature(secret, timestamp=ts, body=req.content, signature=sig, now=int(ts) + 301)


def test_webhook_5xx_is_retried_through_sqs_then_dead_lettered_with_reason(stack: Any, world: Any) -> None:
    secret = _set_secret(world)
    url = "https://down.example.com/hook"
    receiver = Receiver(secret, fail_first=10_000)
    comm_id = _queue(world, recipients=[url], channels=("webhook",))
    body = {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)}
    for receive in range(1, 5):
        with pytest.raises(DeliveryIncomplete):
            deliver(body, uow_factory=_factory, senders=_senders(receiver), receive_count=receive)
        assert _deliveries(world, comm_id)[("webhook", url)].status == "pending"
    with pytest.raises(DeliveryIncomplete):
        deliver(body, uow_factory=_factory, senders=_senders(receiver), receive_count=5)
    row = _deliveries(world, comm_id)[("webhook", url)]
    assert row.status == "failed" and row.attempts == 5
    assert row.last_error == "dead-lettered: webhook failed after 3 attempts: HTTP 503"
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, comm_id)
        assert comm is not None and comm.status == "dead_lettered"
        assert comm.failure_reason.startswith("dead-lettered: webhook ")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fd00:ec2::254"])
def test_webhook_to_private_address_is_refused(stack: Any, world: Any, address: str) -> None:
    _set_secret(world)
    receiver = Receiver("x")
    url = "https://internal.example.com/hook"
    comm_id = _queue(world, recipients=[url], channels=("webhook",))
    deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)},
        uow_factory=_factory,
        senders=_senders(receiver, resolve=lambda host, port: ["93.184.216.34", address]),
    )
    row = _deliveries(world, comm_id)[("webhook", url)]
    assert receiver.calls == [] and row.status == "failed" and "SSRF" in row.last_error


def test_poison_messages_raise(stack: Any, world: Any) -> None:
    with pytest.raises(PoisonMessage, match="unparseable"):
        deliver("{not json", uow_factory=_factory, senders=_senders())
    with pytest.raises(PoisonMessage, match="unknown communication"):
        deliver(
            {"tenant_id": str(world.tenant_id), "communication_id": str(uuid.uuid4())},
            uow_factory=_factory,
            senders=_senders(),
        )


def test_stale_email_claim_becomes_uncertain_not_resent(stack: Any, world: Any) -> None:
    to = f"crash-{uuid.uuid4().hex[:8]}@example.com"
    comm_id = _queue(world, recipients=[to])
    with _uow(world.tenant_id) as uow:  # a worker claimed it and died before confirming
        d = uow.session.scalar(
            select(CommunicationDelivery).where(CommunicationDelivery.communication_id == comm_id)
        )
        d.status, d.claimed_at = "sending", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)},
        uow_factory=_factory,
        senders=_senders(),
    )
    row = _deliveries(world, comm_id)[("email", to)]
    assert row.status == "uncertain" and row.last_error.startswith("uncertain:")
    assert _sent_to(to) == []


def test_through_sqs_duplicates_send_once_and_poison_reaches_the_dlq(stack: Any, world: Any) -> None:
    """The real worker handler behind the local event-source mapping, on a queue with the template's redrive
    (maxReceiveCount 5) and a 1 s visibility timeout: a message enqueued twice sends one e-mail; an unknown
    communication and one whose attachment never appears end in the DLQ, the latter with its reason recorded."""
    import time

    from infra.local import lambda_runtime
    from infra.local.poller import Poller, QueueBinding
    from infra.template import SqsTrigger, load_template

    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    name = f"comms-e2e-{uuid.uuid4().hex[:8]}"
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    spec = load_template().functions["WorkerCommunicationsFunction"]
    binding = QueueBinding(
        SqsTrigger("WorkerCommunicationsFunction", "Q", 5, True),
        url,
        arn,
        lambda event: lambda_runtime.invoke(spec, event),
    )
    poller = Poller(sqs, [binding], wait_s=0)

    to = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    good = _queue(world, recipients=[to])
    bad = _queue(
        world,
        recipients=[f"att-{uuid.uuid4().hex[:8]}@example.com"],
        attachments=[{"filename": "r.pdf", "content_type": "application/pdf", "s3_key": "reports/never.pdf"}],
    )
    _drain(stack)  # the after-commit nudges went to the stack's queue; this test uses its own
    for comm_id in (good, good, bad, uuid.uuid4()):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)}),
        )
    deadline = time.monotonic() + 40
    dead: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(dead) < 2:
        poller.poll_once(binding)
        for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        ):
            dead.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
        time.sleep(0.2)
    assert len(_sent_to(to)) == 1
    assert sorted(d["communication_id"] for d in dead) != [] and str(bad) in [
        d["communication_id"] for d in dead
    ]
    assert len(dead) == 2
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, bad)
        assert comm is not None and comm.status == "dead_lettered" and comm.receive_count == 5
        assert "attachment reports/never.pdf not found in S3" in comm.failure_reason


def test_job_marks_what_sits_in_the_dlq(stack: Any, world: Any) -> None:
    """A worker killed by its timeout cannot record why; the job finds the message in the DLQ (named by the
    queue's redrive policy) and marks the communication, keeping the message for a redrive."""
    from infra.local import lambda_runtime
    from infra.template import load_template
    from strategist.config import get_settings
    from strategist.services.communications.schedule import dead_letter_queue_url

    dlq = dead_letter_queue_url(get_settings().queue_urls["communications"])
    assert dlq.endswith("-communications-dlq")
    comm_id = _queue(world, recipients=[f"killed-{uuid.uuid4().hex[:6]}@example.com"])
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    body = json.dumps({"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)})
    sqs.send_message(QueueUrl=dlq, MessageBody=body)
    sqs.send_message(QueueUrl=dlq, MessageBody="not json")
    spec = load_template().functions["JobCommunicationsFunction"]
    counts = lambda_runtime.invoke(spec, {})
    assert counts["dead_letters_marked"] >= 1 and counts["dead_letters_orphans"] >= 1
    with _uow(world.tenant_id) as uow:
        comm = uow.session.get(ClientCommunication, comm_id)
        assert comm is not None and comm.status == "dead_lettered"
        assert comm.failure_reason.startswith(
            "dead-lettered: receive limit reached; last: no error was recorded"
        )
    # the messages stay for an operator; clean up this test's
    import time

    time.sleep(0)  # visibility 60 s: purge instead of waiting
    sqs.purge_queue(QueueUrl=dlq)


def test_attachments_come_from_s3(stack: Any, world: Any) -> None:
    from email import message_from_string
    from email.policy import default as default_policy

    from strategist.config import get_settings

    key = f"reports/{uuid.uuid4()}.pdf"
    pdf = b"%PDF-1.7\n" + uuid.uuid4().bytes * 100
    boto3.client("s3", endpoint_url=stack.resources.endpoint).put_object(
        Bucket=get_settings().data_bucket, Key=key, Body=pdf
    )
    to = f"pdf-{uuid.uuid4().hex[:8]}@example.com"
    comm_id = _queue(
        world,
        recipients=[to],
        message_type="report",
        attachments=[{"filename": "November report.pdf", "content_type": "application/pdf", "s3_key": key}],
    )
    deliver(
        {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)},
        uow_factory=_factory,
        senders=_senders(),
    )
    (raw,) = _sent_to(to)
    mail = message_from_string(raw, policy=default_policy)
    (att,) = list(mail.iter_attachments())
    assert att.get_filename() == "November report.pdf" and att.get_content_type() == "application/pdf"
    assert att.get_content() == pdf


def test_no_delivery_is_started_without_time_to_finish_it(stack: Any, world: Any) -> None:
    a, b = (f"tb-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(2))
    comm_id = _queue(world, recipients=[a, b])
    body = {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)}
    with pytest.raises(DeliveryIncomplete, match="time budget"):
        deliver(body, uow_factory=_factory, senders=_senders(), time_left_s=lambda: 10.0)
    rows = _deliveries(world, comm_id)
    assert {r.status for r in rows.values()} == {"pending"} and _sent_to(a) == []
    deliver(body, uow_factory=_factory, senders=_senders(), receive_count=2, time_left_s=lambda: 50.0)
    assert len(_sent_to(a)) == 1 and len(_sent_to(b)) == 1


def test_a_redriven_dead_letter_retries_what_failed_and_keeps_what_was_sent(stack: Any, world: Any) -> None:
    secret = _set_secret(world)
    ok, down = "https://ok.example.com/hook", "https://down.example.com/hook"

    class Split(Receiver):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "down.example.com" and self.fail_first:
                self.calls.append(request)
                return httpx.Response(503)
            return super().__call__(request)

    receiver = Split(secret, fail_first=1)
    comm_id = _queue(world, recipients=[ok, down], channels=("webhook",))
    body = {"tenant_id": str(world.tenant_id), "communication_id": str(comm_id)}
    with pytest.raises(DeliveryIncomplete):
        deliver(body, uow_factory=_factory, senders=_senders(receiver), receive_count=5)
    rows = _deliveries(world, comm_id)
    assert rows[("webhook", ok)].status == "sent" and rows[("webhook", down)].status == "failed"
    receiver.fail_first = 0  # the receiver is back; an operator redrives the DLQ (receive count starts again)
    out = deliver(body, uow_factory=_factory, senders=_senders(receiver), receive_count=1)
    assert out.status == "sent" and out.sent == 1
    rows = _deliveries(world, comm_id)
    assert rows[("webhook", down)].status == "sent" and rows[("webhook", ok)].attempts == 1
    assert sorted(receiver.accepted) == sorted(r.idempotency_key for r in rows.values())
