"""job_communications: enqueue scheduled sends that fall due within SQS's 15-minute delay window (with the
remaining delay, so they go out on time), and re-enqueue `queued` communications whose after-commit nudge was
lost (SQS unreachable at commit). A duplicate enqueue is harmless: deliveries are claimed exactly once."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from sqlalchemy import text, update

from strategist.adapters.db.models import ClientCommunication
from strategist.adapters.db.uow import UnitOfWork
from strategist.services.communications.queue import MAX_DELAY_S, enqueue_communication

log = logging.getLogger(__name__)

#: A queued communication still not picked up this long after it was due is assumed lost and enqueued again.
LOST_AFTER_S = 900

Enqueue = Callable[[uuid.UUID, uuid.UUID, int], None]


def _default_enqueue(tenant_id: uuid.UUID, comm_id: uuid.UUID, delay_s: int) -> None:
    enqueue_communication(tenant_id, comm_id, delay_s=delay_s)


def enqueue_due(
    uow_factory: Callable[[], UnitOfWork],
    *,
    enqueue: Enqueue = _default_enqueue,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    now = now or dt.datetime.now(dt.UTC)
    with uow_factory() as uow:
        rows = uow.session.execute(
            text("SELECT id, tenant_id, status, scheduled_at FROM system_due_communications(:at, :h, :l)"),
            {"at": now, "h": MAX_DELAY_S, "l": LOST_AFTER_S},
        ).all()
    counts = {"scheduled": 0, "requeued": 0, "errors": 0}
    for comm_id, tenant_id, status, scheduled_at in rows:
        delay = 0 if scheduled_at is None else max(0, int((scheduled_at - now).total_seconds()))
        try:
            with uow_factory() as uow:
                uow.set_tenant(tenant_id)
                changed = uow.session.scalar(
                    update(ClientCommunication)
                    .where(ClientCommunication.id == comm_id, ClientCommunication.status == status)
                    .values(status="queued", enqueued_at=now, updated_at=now)
                    .returning(ClientCommunication.id)
                )
                if changed is None:  # picked up meanwhile
                    continue
                uow.after_commit(lambda t=tenant_id, c=comm_id, d=delay: enqueue(t, c, min(d, MAX_DELAY_S)))
            counts["scheduled" if status == "scheduled" else "requeued"] += 1
        except Exception:
            counts["errors"] += 1
            log.exception("could not enqueue communication %s", comm_id)
    return counts


def dead_letter_queue_url(queue_url: str) -> str:
    """The DLQ named by the queue's redrive policy (so no second setting can drift from the template)."""
    import json

    from strategist.adapters.aws.clients import aws_client

    if not queue_url:
        return ""
    sqs = aws_client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get(
        "Attributes", {}
    )
    if "RedrivePolicy" not in attrs:
        return ""
    arn = json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"]
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def record_dead_letters(
    uow_factory: Callable[[], UnitOfWork], dlq_url: str, *, max_messages: int = 100
) -> dict[str, int]:
    """Look at (never delete) what sits in the dead-letter queue and make sure each communication it names shows
    why: the worker records the reason on the last receive, but a Lambda killed by its timeout cannot, so this
    catches those. Messages stay in the DLQ for an operator to redrive; an unparseable one, or one naming no
    known communication, has no row to mark and is only counted (and logged) here."""
    import json

    from strategist.adapters.aws.clients import aws_client

    sqs = aws_client("sqs")
    counts = {"seen": 0, "marked": 0, "orphans": 0}
    seen_ids: set[str] = set()
    while counts["seen"] < max_messages:
        msgs = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        fresh = [m for m in msgs if m["MessageId"] not in seen_ids]
        if not fresh:
            break
        for m in fresh:
            seen_ids.add(m["MessageId"])
            counts["seen"] += 1
            try:
                data = json.loads(m["Body"])
                tenant_id, comm_id = uuid.UUID(data["tenant_id"]), uuid.UUID(data["communication_id"])
            except (ValueError, KeyError, TypeError):
                counts["orphans"] += 1
                log.error("dead-lettered communications message %s is unparseable", m["MessageId"])
                continue
            with uow_factory() as uow:
                uow.set_tenant(tenant_id)
                comm = uow.session.get(ClientCommunication, comm_id)
                if comm is None:
                    counts["orphans"] += 1
                    log.error("dead-lettered message names unknown communication %s", comm_id)
                    continue
                if comm.status in {"dead_lettered", "sent", "suppressed", "failed", "partially_sent"}:
                    continue
                last = (
                    comm.failure_reason
                    or "no error was recorded (the worker was probably stopped by its timeout)"
                )
                comm.status = "dead_lettered"
                comm.failure_reason = f"dead-lettered: receive limit reached; last: {last}"[:2000]
                comm.updated_at = dt.datetime.now(dt.UTC)
                counts["marked"] += 1
    return counts
