"""The communications worker's logic: deliver each (communication, channel, recipient) exactly once.

The guard is the delivery row. Before anything leaves the service the worker claims the row in its own committed
transaction (`pending` -> `sending`, a conditional UPDATE, so of two workers holding the same SQS message exactly
one wins; the other sees the claim and does nothing). After the provider accepts, the row becomes `sent` with the
provider's message id. A redelivered message finds `sent` and sends nothing.

A crash between claim and confirmation leaves `sending`. Once the claim is older than STALE_CLAIM_S (2x the
worker's 60 s Lambda timeout, so its holder is certainly dead):
  * e-mail and SMS become `uncertain` and are NOT resent: SES and SNS have no lookup by our key, so the message may
    or may not have gone out, and a duplicate to a client is worse than a visible "uncertain" the agency can act
    on (GET /api/v1/communications/{id} shows it). This is at-most-once for that narrow window, never twice.
  * webhooks are re-claimed and posted again with the same X-Strategist-Delivery id, which receivers de-duplicate
    on (documented in strategist.adapters.messaging.webhook): the effect stays exactly once.
  * in-app has no external effect; it is simply marked delivered.

Failures: a permanent one (rejected address, 4xx webhook, SSRF-refused URL) fails that delivery and the others go
on. A transient one (5xx after the webhook's own retries, throttling, an attachment not yet in S3) releases the
claim and raises, so SQS redelivers; on the last receive (maxReceiveCount = 5) the delivery and the communication
are marked "dead-lettered: <reason>" before raising, so the message lands in the DLQ with its reason in the API.
A poison message (unparseable, unknown communication) raises every time and reaches the DLQ the same way.

Consent: an opted-out (channel, recipient), or an SMS number without an explicit opt-in, is `suppressed` with the
reason, never sent."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update

from strategist.adapters.db.models import (
    Client,
    ClientCommunication,
    CommunicationConsent,
    CommunicationDelivery,
    CommunicationSettings,
    Tenant,
)
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.adapters.messaging.base import PermanentSendError, SendResult, TransientSendError
from strategist.adapters.messaging.email import Attachment, OutgoingEmail
from strategist.adapters.messaging.sms import sms_text
from strategist.services.communications.rendering import Branding, wrap
from strategist.services.communications.tokens import make_token

log = logging.getLogger(__name__)

STALE_CLAIM_S = 120
#: The webhook sender's worst case (3 attempts x 5 s timeout + backoff) plus margin.
MIN_TIME_LEFT_S = 25
MAX_RECEIVES = 5
OPEN = ("pending", "sending")
SECRET_CONTEXT = "webhook_secret"


class PoisonMessage(Exception):
    """The message can never be processed; it will reach the DLQ after maxReceiveCount receives."""


class DeliveryIncomplete(Exception):
    """Some deliveries failed transiently; SQS redelivers the message (sent ones are not sent again)."""


class EmailPort(Protocol):
    def send(self, mail: OutgoingEmail) -> SendResult: ...


class SmsPort(Protocol):
    def send(self, phone: str, text: str) -> str | None: ...


class WebhookPort(Protocol):
    def send(self, url: str, payload: dict[str, Any], *, secret: str, delivery_key: str) -> SendResult: ...


class CipherPort(Protocol):
    def encrypt(self, value: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]: ...
    def decrypt(self, blob: dict[str, Any], *, context: dict[str, str]) -> dict[str, Any]: ...


@dataclass
class Senders:
    email: EmailPort
    sms: SmsPort
    webhook: WebhookPort
    cipher: Callable[[], CipherPort]
    key_ring: Callable[[], Any]
    sender_email: str
    public_base_url: str


@dataclass
class Outcome:
    communication_id: uuid.UUID
    status: str
    sent: int = 0
    suppressed: int = 0
    failed: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


def secret_context(tenant_id: uuid.UUID) -> dict[str, str]:
    return {"tenant_id": str(tenant_id), "purpose": SECRET_CONTEXT}


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def unsubscribe_url(base: str, ring: Any, tenant_id: uuid.UUID, channel: str, recipient: str) -> str:
    return f"{base.rstrip('/')}/api/v1/communications/unsubscribe?token={make_token(ring, tenant_id, channel, recipient)}"


def parse_message(body: Any) -> tuple[uuid.UUID, uuid.UUID]:
    import json

    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) else body
        return uuid.UUID(str(data["tenant_id"])), uuid.UUID(str(data["communication_id"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise PoisonMessage(f"unparseable message: {exc!s}"[:300]) from exc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _consent_block(uow: UnitOfWork, channel: str, recipient: str) -> str | None:
    if channel not in {"email", "sms"}:
        return None
    consent = uow.session.scalar(
        select(CommunicationConsent.status).where(
            CommunicationConsent.channel == channel, CommunicationConsent.recipient == recipient.lower()
        )
    )
    if consent == "opted_out":
        return "suppressed: unsubscribed"
    if channel == "sms" and consent != "opted_in":
        return "suppressed: no SMS opt-in on record"
    return None


def _claim(uow_factory: Callable[[], UnitOfWork], tenant_id: uuid.UUID, delivery_id: uuid.UUID) -> str:
    """'claimed', 'uncertain' (a stale e-mail/SMS claim, now marked so) or 'taken' (someone else / done)."""
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        now = _now()
        stale = now - dt.timedelta(seconds=STALE_CLAIM_S)
        claimed = uow.session.scalar(
            update(CommunicationDelivery)
            .where(
                CommunicationDelivery.id == delivery_id,
                or_(
                    CommunicationDelivery.status == "pending",
                    and_(
                        CommunicationDelivery.status == "sending",
                        CommunicationDelivery.claimed_at < stale,
                        CommunicationDelivery.channel.in_(("webhook", "in_app")),
                    ),
                ),
            )
            .values(
                status="sending",
                claimed_at=now,
                attempts=CommunicationDelivery.attempts + 1,
                updated_at=now,
            )
            .returning(CommunicationDelivery.id)
        )
        if claimed is not None:
            return "claimed"
        marked = uow.session.scalar(
            update(CommunicationDelivery)
            .where(
                CommunicationDelivery.id == delivery_id,
                CommunicationDelivery.status == "sending",
                CommunicationDelivery.claimed_at < stale,
            )
            .values(
                status="uncertain",
                last_error=(
                    "uncertain: the worker stopped after claiming this delivery and before confirming it; it may "
                    "have been sent, so it is not resent (no duplicates)"
                ),
                updated_at=now,
            )
            .returning(CommunicationDelivery.id)
        )
        return "uncertain" if marked is not None else "taken"


def _finish(
    uow_factory: Callable[[], UnitOfWork],
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    status: str,
    provider_id: str | None = None,
    error: str | None = None,
) -> None:
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        now = _now()
        values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error}
        if status == "sent":
            values |= {"sent_at": now, "provider_message_id": provider_id}
        if status == "pending":
            values["claimed_at"] = None
        uow.session.execute(
            update(CommunicationDelivery)
            .where(CommunicationDelivery.id == delivery_id, CommunicationDelivery.status == "sending")
            .values(**values)
        )


def summarize(statuses: list[str]) -> str:
    if not statuses:
        return "failed"
    if any(s in OPEN for s in statuses):
        return "sending"
    if all(s == "suppressed" for s in statuses):
        return "suppressed"
    delivered = sum(s == "sent" for s in statuses)
    if delivered and all(s in {"sent", "suppressed"} for s in statuses):
        return "sent"
    if delivered or any(s == "uncertain" for s in statuses):
        return "partially_sent"
    return "failed"


@dataclass(frozen=True)
class _Message:
    tenant_id: uuid.UUID
    id: uuid.UUID
    client_id: uuid.UUID | None
    message_type: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: tuple[Attachment, ...]
    metadata: dict[str, Any]
    created_at: dt.datetime
    branding: Branding
    webhook_secret_blob: dict[str, Any] | None


def _load(uow: UnitOfWork, tenant_id: uuid.UUID, comm_id: uuid.UUID) -> tuple[_Message, list[Any]] | None:
    comm = uow.session.get(ClientCommunication, comm_id)
    if comm is None:
        return None
    tenant = uow.session.get(Tenant, tenant_id)
    client = uow.session.get(Client, comm.client_id) if comm.client_id else None
    branding = dict(tenant.branding or {}) if tenant else {}
    if client is not None and client.branding:
        branding |= {k: v for k, v in client.branding.items() if k == "footer"}
    settings = uow.session.get(CommunicationSettings, tenant_id)
    msg = _Message(
        tenant_id=tenant_id,
        id=comm.id,
        client_id=comm.client_id,
        message_type=comm.message_type,
        subject=comm.subject,
        body_text=comm.body_text,
        body_html=comm.body_html,
        attachments=tuple(Attachment(**a) for a in comm.attachments or []),
        metadata=dict(comm.metadata_ or {}),
        created_at=comm.created_at,
        branding=Branding.from_tenant(tenant.name if tenant else "", branding),
        webhook_secret_blob=settings.webhook_secret if settings else None,
    )
    rows = uow.session.execute(
        select(
            CommunicationDelivery.id,
            CommunicationDelivery.channel,
            CommunicationDelivery.recipient,
            CommunicationDelivery.idempotency_key,
            CommunicationDelivery.status,
        )
        .where(CommunicationDelivery.communication_id == comm_id)
        .order_by(CommunicationDelivery.channel, CommunicationDelivery.recipient)
    ).all()
    return msg, list(rows)


def _send_one(msg: _Message, channel: str, recipient: str, key: str, senders: Senders) -> str | None:
    if channel == "in_app":
        return None
    if channel == "email":
        unsub = unsubscribe_url(
            senders.public_base_url, senders.key_ring(), msg.tenant_id, "email", recipient
        )
        text, html = wrap(
            subject=msg.subject,
            body_text=msg.body_text,
            body_html=msg.body_html,
            branding=msg.branding,
            unsubscribe_url=unsub,
            layout=msg.metadata.get("layout", True) is not False,
        )
        if not senders.sender_email:
            raise PermanentSendError("SENDER_EMAIL is not configured")
        return senders.email.send(
            OutgoingEmail(
                sender_address=senders.sender_email,
                sender_name=msg.branding.sender_name,
                to=recipient,
                subject=msg.subject,
                text=text,
                html=html,
                unsubscribe_url=unsub,
                delivery_key=key,
                attachments=msg.attachments,
            )
        ).provider_message_id
    if channel == "sms":
        unsub_note = " Reply STOP to opt out."
        return senders.sms.send(
            recipient, sms_text(msg.subject, msg.body_text)[: 459 - len(unsub_note)] + unsub_note
        )
    if channel == "webhook":
        if not msg.webhook_secret_blob:
            raise PermanentSendError(
                "no webhook signing secret: create one with POST /api/v1/communication-settings/webhook-secret"
            )
        secret = senders.cipher().decrypt(msg.webhook_secret_blob, context=secret_context(msg.tenant_id))[
            "secret"
        ]
        payload = jsonable(
            {
                "event": "communication",
                "delivery_id": key,
                "communication_id": msg.id,
                "tenant_id": msg.tenant_id,
                "client_id": msg.client_id,
                "message_type": msg.message_type,
                "subject": msg.subject,
                "body_text": msg.body_text,
                "body_html": msg.body_html,
                "metadata": msg.metadata,
                "created_at": msg.created_at,
            }
        )
        return senders.webhook.send(recipient, payload, secret=secret, delivery_key=key).provider_message_id
    raise PermanentSendError(f"unknown channel {channel!r}")


def deliver(
    body: Any,
    *,
    uow_factory: Callable[[], UnitOfWork],
    senders: Senders,
    receive_count: int = 1,
    time_left_s: Callable[[], float] | None = None,
) -> Outcome:
    """time_left_s: seconds before the Lambda times out; no new delivery is claimed with less than
    MIN_TIME_LEFT_S left (the rest wait for the next receive), so a timeout never cuts a send in half."""
    tenant_id, comm_id = parse_message(body)
    final = receive_count >= MAX_RECEIVES
    try:
        return _deliver(
            tenant_id,
            comm_id,
            uow_factory=uow_factory,
            senders=senders,
            final=final,
            receives=receive_count,
            time_left_s=time_left_s,
        )
    except (PoisonMessage, DeliveryIncomplete):
        raise
    except Exception as exc:
        if final:
            _dead_letter(uow_factory, tenant_id, comm_id, f"{type(exc).__name__}: {exc}")
        raise


def _dead_letter(
    uow_factory: Callable[[], UnitOfWork], tenant_id: uuid.UUID, comm_id: uuid.UUID, reason: str
) -> None:
    try:
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            now = _now()
            uow.session.execute(
                update(ClientCommunication)
                .where(ClientCommunication.id == comm_id)
                .values(
                    status="dead_lettered", failure_reason=f"dead-lettered: {reason}"[:2000], updated_at=now
                )
            )
            uow.session.execute(
                update(CommunicationDelivery)
                .where(
                    CommunicationDelivery.communication_id == comm_id,
                    CommunicationDelivery.status == "pending",
                )
                .values(status="failed", last_error=f"dead-lettered: {reason}"[:2000], updated_at=now)
            )
    except Exception:
        log.exception("could not record the dead-letter reason of communication %s", comm_id)


def _deliver(
    tenant_id: uuid.UUID,
    comm_id: uuid.UUID,
    *,
    uow_factory: Callable[[], UnitOfWork],
    senders: Senders,
    final: bool,
    receives: int,
    time_left_s: Callable[[], float] | None = None,
) -> Outcome:
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        loaded = _load(uow, tenant_id, comm_id)
        if loaded is None:
            raise PoisonMessage(f"unknown communication {comm_id} in tenant {tenant_id}")
        msg, rows = loaded
        comm = uow.session.get(ClientCommunication, comm_id)
        assert comm is not None
        if comm.status == "scheduled":
            return Outcome(comm_id, "scheduled", notes=["scheduled: the job enqueues it when due"])
        if comm.status == "dead_lettered":
            # Received again after the DLQ: an operator redrove it. What failed for a transient reason is
            # retried; what was sent stays sent.
            retry = [r.id for r in rows if r.status == "failed"]
            if retry:
                uow.session.execute(
                    update(CommunicationDelivery)
                    .where(
                        CommunicationDelivery.id.in_(retry),
                        CommunicationDelivery.last_error.like("dead-lettered:%"),
                    )
                    .values(status="pending", updated_at=_now())
                )
                uow.session.flush()
                rows = _load(uow, tenant_id, comm_id)[1]  # type: ignore[index]
            comm.status, comm.failure_reason, comm.receive_count = "sending", None, 0
        if any(r.status in OPEN for r in rows) and comm.status != "sending":
            comm.status = "sending"
        comm.receive_count = max(comm.receive_count, receives)
        comm.updated_at = _now()
        # Consent first, in this transaction: suppressed rows are never claimed.
        suppressed = 0
        for r in rows:
            if r.status != "pending":
                continue
            block = _consent_block(uow, r.channel, r.recipient)
            if block:
                uow.session.execute(
                    update(CommunicationDelivery)
                    .where(CommunicationDelivery.id == r.id, CommunicationDelivery.status == "pending")
                    .values(status="suppressed", last_error=block, updated_at=_now())
                )
                suppressed += 1
        suppressed_ids = set()
        if suppressed:
            suppressed_ids = set(
                uow.session.scalars(
                    select(CommunicationDelivery.id).where(
                        CommunicationDelivery.communication_id == comm_id,
                        CommunicationDelivery.status == "suppressed",
                    )
                )
            )

    outcome = Outcome(comm_id, "sending", suppressed=suppressed)
    transient: list[str] = []
    for r in rows:
        if r.status not in OPEN or r.id in suppressed_ids:
            outcome.skipped += r.status not in OPEN
            continue
        if time_left_s is not None and time_left_s() < MIN_TIME_LEFT_S and not final:
            transient.append("time budget: the remaining deliveries wait for the next receive")
            break
        state = _claim(uow_factory, tenant_id, r.id)
        if state != "claimed":
            outcome.skipped += 1
            outcome.notes.append(f"{r.channel} {r.recipient}: {state}")
            continue
        try:
            provider_id = _send_one(msg, r.channel, r.recipient, r.idempotency_key, senders)
        except PermanentSendError as exc:
            _finish(uow_factory, tenant_id, r.id, status="failed", error=str(exc)[:2000])
            outcome.failed += 1
        except TransientSendError as exc:
            reason = str(exc)[:1900]
            if final:
                _finish(uow_factory, tenant_id, r.id, status="failed", error=f"dead-lettered: {reason}")
            else:
                _finish(uow_factory, tenant_id, r.id, status="pending", error=reason)
            transient.append(f"{r.channel} {r.recipient}: {reason}")
        except Exception as exc:
            # Unknown failure after the claim: we cannot tell whether it left the building. Release only
            # side-effect-free channels; the rest stay claimed and become 'uncertain' when stale.
            if r.channel == "in_app":
                _finish(uow_factory, tenant_id, r.id, status="pending", error=f"{type(exc).__name__}: {exc}")
            raise
        else:
            _finish(uow_factory, tenant_id, r.id, status="sent", provider_id=provider_id)
            outcome.sent += 1

    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        statuses = list(
            uow.session.scalars(
                select(CommunicationDelivery.status).where(CommunicationDelivery.communication_id == comm_id)
            )
        )
        status = summarize(statuses)
        now = _now()
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if transient and final:
            values |= {
                "status": "dead_lettered",
                "failure_reason": "dead-lettered: " + "; ".join(transient)[:1900],
            }
        elif transient:
            values["failure_reason"] = (
                f"retrying (receive {receives} of {MAX_RECEIVES}): " + "; ".join(transient)[:1800]
            )
        elif status not in OPEN:
            values |= {"completed_at": now, "failure_reason": None}
        if status not in OPEN and msg.message_type == "invitation":
            from strategist.services.communications.invitations import redact

            values |= {"body_text": redact(msg.body_text), "body_html": redact(msg.body_html)}
        if status != "sending" or transient or "body_text" in values:
            uow.session.execute(
                update(ClientCommunication).where(ClientCommunication.id == comm_id).values(**values)
            )
            if status not in OPEN and not transient:
                uow.emit("communication.completed", {"communication_id": comm_id, "status": status})
        outcome.status = values["status"]
    if transient:
        raise DeliveryIncomplete("; ".join(transient))
    return outcome
