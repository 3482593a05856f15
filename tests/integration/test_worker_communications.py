"""Communications end to end below the API: queue_communication in a caller's transaction, the worker's
exactly-once delivery through SES (moto), SNS (moto) and signed webhooks, consent and the dead-letter path."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import boto3
import pytest
from sqlalchemy import select

from strategist.adapters.db.models import ClientCommunication, CommunicationDelivery
from strategist.domain.errors import ValidationFailed
from strategist.services.communications import queue_communication


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
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
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
            uow, client_id=world.clients[0], message_type="alert", subject="other", body_text="x", dedupe_key=key
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
        assert uow.session.scalar(select(ClientCommunication).where(ClientCommunication.dedupe_key == key)) is None


def test_tenant_level_defaults_to_owners_and_admins(stack: Any, world: Any) -> None:
    with _uow(world.tenant_id) as uow:
        cid = queue_communication(
            uow, client_id=None, message_type="alert", subject="Agency", body_text="b", dedupe_key=str(uuid.uuid4())
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
def test_bad_input_names_the_field_and_writes_nothing(stack: Any, world: Any, kwargs: dict, field: str) -> None:
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
        assert uow.session.scalar(select(ClientCommunication).where(ClientCommunication.dedupe_key == key)) is None


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
