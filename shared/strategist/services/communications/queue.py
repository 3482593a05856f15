"""queue_communication: write a communication and its delivery rows in the caller's transaction; enqueue it on
the `communications` SQS queue only after that transaction commits.

Exactly-once starts here: (tenant, dedupe_key) is unique, so asking twice returns the first communication; each
(communication, channel, recipient) gets one delivery row with a unique idempotency key, which the worker claims
before it sends (see delivery.py).

Scheduling: a send due within SQS's 15-minute DelaySeconds limit is enqueued with that delay at commit; a later
one is stored as `scheduled` and `job_communications` enqueues it (with the remaining delay) once it is due
within 15 minutes. The same job re-enqueues anything `queued` whose after-commit nudge was lost."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from strategist.adapters.db.models import (
    Client,
    ClientCommunication,
    CommunicationDelivery,
    CommunicationSettings,
    User,
)
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.errors import ValidationFailed

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms", "webhook", "in_app")
#: SQS DelaySeconds maximum.
MAX_DELAY_S = 900
MESSAGE_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
EMAIL_RE = re.compile(r"^[^@\s\"'<>,;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
IN_APP_RECIPIENT = "in_app"
MAX_SUBJECT = 998 - len("Subject: ")  # RFC 5322 line limit
MAX_RECIPIENTS = 50
MAX_ATTACHMENTS = 10


def has_crlf(value: str) -> bool:
    return any(c in value for c in "\r\n\x00\u2028\u2029\x85")


def normalize_email(value: str) -> str | None:
    value = value.strip()
    if has_crlf(value) or len(value) > 320 or not EMAIL_RE.match(value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str) -> str | None:
    compact = re.sub(r"[\s().-]", "", value.strip())
    return compact if E164_RE.match(compact) else None


def normalize_webhook_url(value: str) -> str | None:
    """Syntactic check only (http(s), a host, no credentials, no CR/LF); the worker resolves the host and refuses
    private addresses right before sending, when the answer cannot be stale."""
    value = value.strip()
    if has_crlf(value) or len(value) > 2048:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.username or parts.password:
        return None
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    return value


def classify_recipient(value: str) -> tuple[str, str] | None:
    """('email' | 'sms' | 'webhook', normalized) for one recipient string, or None."""
    if value.strip().lower().startswith(("http://", "https://")):
        url = normalize_webhook_url(value)
        return ("webhook", url) if url else None
    if "@" in value:
        email = normalize_email(value)
        return ("email", email) if email else None
    phone = normalize_phone(value)
    return ("sms", phone) if phone else None


def delivery_key(tenant_id: uuid.UUID, communication_id: uuid.UUID, channel: str, recipient: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{communication_id}|{channel}|{recipient}".encode()).hexdigest()


def _validate_subject(subject: str) -> str:
    subject = subject.strip()
    if not subject:
        raise ValidationFailed.one("subject", "must not be empty")
    if has_crlf(subject):
        raise ValidationFailed.one("subject", "must not contain line breaks (e-mail header injection)")
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed.one("subject", f"at most {MAX_SUBJECT} characters")
    return subject


def _validate_attachments(attachments: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed.one("attachments", f"at most {MAX_ATTACHMENTS}")
    out = []
    for i, att in enumerate(attachments):
        missing = [k for k in ("filename", "content_type", "s3_key") if not att.get(k)]
        if missing:
            raise ValidationFailed.one(f"attachments[{i}]", f"missing {', '.join(missing)}")
        if any(has_crlf(str(att[k])) or '"' in str(att[k]) for k in ("filename", "content_type")):
            raise ValidationFailed.one(
                f"attachments[{i}]", 'filename/content_type must not contain CR, LF or "'
            )
        if not re.match(r"^[a-z]+/[a-z0-9.+-]+$", att["content_type"]):
            raise ValidationFailed.one(f"attachments[{i}].content_type", "not a MIME type")
        out.append({k: str(att[k]) for k in ("filename", "content_type", "s3_key")})
    return out


def default_recipients(uow: UnitOfWork, client_id: uuid.UUID | None, channel: str) -> list[str]:
    """email: the client's contact e-mails, else (or for a tenant-level message) the tenant's active owners and
    admins; sms / webhook: the tenant's configured numbers / URLs; in_app: the client's (or tenant's) inbox."""
    if channel == IN_APP_RECIPIENT:
        return [IN_APP_RECIPIENT]
    if channel == "email":
        if client_id is not None:
            emails = uow.session.scalar(select(Client.contact_emails).where(Client.id == client_id)) or []
            if emails:
                return list(emails)
        rows = uow.session.scalars(
            select(User.email)
            .where(User.is_active.is_(True), User.role.in_(("owner", "admin")))
            .order_by(User.email)
        )
        return list(rows)
    settings = uow.session.get(CommunicationSettings, uow.tenant_id)
    if settings is None:
        return []
    return list(settings.sms_numbers if channel == "sms" else settings.webhook_urls)


def resolve_recipients(
    uow: UnitOfWork,
    client_id: uuid.UUID | None,
    channels: Sequence[str],
    recipients: Sequence[str] | None,
) -> list[tuple[str, str]]:
    """(channel, recipient) pairs. Explicit recipients go to the channel their form names (an address to e-mail,
    an E.164 number to SMS, a URL to the webhook); a requested channel none of them fits gets its defaults."""
    if recipients is not None and len(recipients) > MAX_RECIPIENTS:
        raise ValidationFailed.one("recipients", f"at most {MAX_RECIPIENTS}")
    by_channel: dict[str, list[str]] = {c: [] for c in channels}
    for i, raw in enumerate(recipients or ()):
        if not isinstance(raw, str) or has_crlf(raw):
            raise ValidationFailed.one(f"recipients[{i}]", "must not contain line breaks")
        kind = classify_recipient(raw)
        if kind is None:
            raise ValidationFailed.one(
                f"recipients[{i}]", "not an e-mail address, an E.164 phone number (+...) or an http(s) URL"
            )
        channel, value = kind
        if channel not in by_channel:
            raise ValidationFailed.one(
                f"recipients[{i}]", f"is a {channel} recipient but channels does not include {channel!r}"
            )
        if value not in by_channel[channel]:
            by_channel[channel].append(value)
    pairs: list[tuple[str, str]] = []
    for channel in channels:
        targets = by_channel[channel] or default_recipients(uow, client_id, channel)
        if not targets:
            raise ValidationFailed.one(
                "recipients",
                f"no {channel} recipient given and none configured for this "
                + ("client" if channel == "email" else "tenant"),
            )
        for value in targets:
            if channel == "email":
                value = normalize_email(value) or ""
            if value:
                pairs.append((channel, value))
    return pairs


def queue_communication(
    uow: UnitOfWork,
    *,
    client_id: uuid.UUID | None,
    message_type: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    channels: Sequence[str] = ("email",),
    recipients: Sequence[str] | None = None,
    dedupe_key: str,
    attachments: Sequence[dict[str, str]] = (),
    metadata: dict[str, Any] | None = None,
    scheduled_at: dt.datetime | None = None,
    template_id: uuid.UUID | None = None,
    content: dict[str, Any] | None = None,
    send_immediately: bool = True,
) -> uuid.UUID:
    """Write the communication and one delivery per (channel, recipient) in the caller's transaction; enqueue
    after commit. The same tenant + dedupe_key returns the existing communication's id and writes nothing.
    `send_immediately=False` leaves it to job_communications (at scheduled_at, else its next run, within 5 min)."""
    assert uow.tenant_id is not None, "queue_communication needs the caller's tenant"
    if not dedupe_key or len(dedupe_key) > 255:
        raise ValidationFailed.one("dedupe_key", "1-255 characters")
    existing = uow.session.scalar(
        select(ClientCommunication.id).where(ClientCommunication.dedupe_key == dedupe_key)
    )
    if existing is not None:
        return existing
    if not MESSAGE_TYPE_RE.match(message_type):
        raise ValidationFailed.one("message_type", "1-40 of a-z, 0-9 and '_', starting with a letter")
    channel_list = list(dict.fromkeys(channels))
    if not channel_list:
        raise ValidationFailed.one("channels", "at least one channel")
    for c in channel_list:
        if c not in CHANNELS:
            raise ValidationFailed.one("channels", f"{c!r} is not one of {', '.join(CHANNELS)}")
    subject = _validate_subject(subject)
    if not body_text.strip():
        raise ValidationFailed.one("body_text", "must not be empty")
    atts = _validate_attachments(attachments)
    now = dt.datetime.now(dt.UTC)
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise ValidationFailed.one("scheduled_at", "needs a time zone offset")
    pairs = resolve_recipients(uow, client_id, channel_list, recipients)

    delay = 0 if scheduled_at is None else max(0, int((scheduled_at - now).total_seconds()))
    status = "scheduled" if not send_immediately or delay > MAX_DELAY_S else "queued"
    if status == "scheduled" and scheduled_at is None:
        scheduled_at = now
    comm_id = uow.session.scalar(
        insert(ClientCommunication)
        .values(
            tenant_id=uow.tenant_id,
            client_id=client_id,
            message_type=message_type,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            channels=channel_list,
            template_id=template_id,
            content=jsonable(content or {}),
            attachments=atts,
            metadata_=jsonable(metadata or {}),
            dedupe_key=dedupe_key,
            status=status,
            scheduled_at=scheduled_at,
            enqueued_at=now if status == "queued" else None,
            created_by=uow.actor,
        )
        .on_conflict_do_nothing(constraint="uq_client_communications_dedupe")
        .returning(ClientCommunication.id)
    )
    if comm_id is None:  # a concurrent caller committed the same dedupe_key first
        existing = uow.session.scalar(
            select(ClientCommunication.id).where(ClientCommunication.dedupe_key == dedupe_key)
        )
        assert existing is not None
        return existing
    for channel, recipient in pairs:
        uow.session.add(
            CommunicationDelivery(
                tenant_id=uow.tenant_id,
                communication_id=comm_id,
                channel=channel,
                recipient=recipient,
                idempotency_key=delivery_key(uow.tenant_id, comm_id, channel, recipient),
            )
        )
    uow.session.flush()
    uow.audit(
        "communication.queue",
        "client_communication",
        comm_id,
        after={
            "client_id": client_id,
            "message_type": message_type,
            "channels": channel_list,
            "recipients": len(pairs),
            "scheduled_at": scheduled_at,
            "dedupe_key": dedupe_key,
        },
    )
    uow.emit(
        "communication.queued",
        {"communication_id": comm_id, "client_id": client_id, "message_type": message_type, "status": status},
    )
    if status == "queued":
        tenant_id = uow.tenant_id
        uow.after_commit(lambda: enqueue_communication(tenant_id, comm_id, delay_s=delay))
    return comm_id


def enqueue_communication(tenant_id: uuid.UUID, communication_id: uuid.UUID, *, delay_s: int = 0) -> None:
    """Put one communication on the queue. Delivery rows make a duplicate enqueue harmless."""
    import json

    from strategist.adapters.aws.clients import aws_client
    from strategist.config import get_settings

    url = get_settings().queue_urls.get("communications", "")
    if not url:
        raise RuntimeError("QUEUE_URL_COMMUNICATIONS is not set")
    aws_client("sqs").send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"tenant_id": str(tenant_id), "communication_id": str(communication_id)}),
        DelaySeconds=max(0, min(MAX_DELAY_S, delay_s)),
    )


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
