"""Client communications: the brief's send body, the list/detail shapes with per-recipient delivery status,
templates, consent and the tenant's communication settings."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from strategist.http.schemas.common import Out, PageQuery, Strict


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class CommunicationStatus(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    PARTIALLY_SENT = "partially_sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    DEAD_LETTERED = "dead_lettered"


class RichContent(Strict):
    subject: str | None = Field(None, max_length=900)
    body: str | None = Field(None, max_length=100_000, description="Plain text.")
    html: str | None = Field(
        None, max_length=200_000, description="HTML body (wrapped in the branded layout)."
    )


class CommunicationSend(Strict):
    """The brief's body. `content` is the message text (or {subject, body, html}); with `template_id` it is the
    template's variables instead (an object)."""

    tenant_id: uuid.UUID | None = Field(
        None, description="Accepted for compatibility; must be your own tenant."
    )
    client_id: uuid.UUID
    message_type: str = Field(
        min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["performance_update"]
    )
    content: str | dict[str, Any] | None = Field(
        None, description="Text of the message; or {subject, body, html}; or the template's variables."
    )
    subject: str | None = Field(
        None, max_length=900, description="Default: from the template or the message type."
    )
    send_immediately: bool = Field(
        True, description="false: sent at scheduled_at (or the next scheduler run)."
    )
    channels: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL], min_length=1, max_length=4)
    recipients: list[str] | None = Field(
        None,
        max_length=50,
        description="E-mail addresses, E.164 numbers (+...) and/or https URLs; default: the client's contacts.",
    )
    template_id: uuid.UUID | None = None
    scheduled_at: dt.datetime | None = Field(
        None, description="With a time zone offset; at most 90 days ahead."
    )
    idempotency_key: str | None = Field(
        None, max_length=200, description="Same key, same communication: a retried request never sends twice."
    )

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("needs a time zone offset (e.g. 2026-12-01T09:00:00+01:00)")
        now = dt.datetime.now(dt.UTC)
        if value > now + dt.timedelta(days=90):
            raise ValueError("at most 90 days ahead")
        if value < now - dt.timedelta(minutes=5):
            raise ValueError("is in the past")
        return value

    @model_validator(mode="after")
    def _content(self) -> CommunicationSend:
        if self.template_id is None:
            if self.content is None or (isinstance(self.content, str) and not self.content.strip()):
                raise ValueError("content: required without template_id")
            if isinstance(self.content, dict):
                RichContent.model_validate(self.content)
                if not (self.content.get("body") or self.content.get("html")):
                    raise ValueError("content: needs body or html")
            elif len(self.content) > 100_000:
                raise ValueError("content: at most 100000 characters")
        elif self.content is not None and not isinstance(self.content, dict):
            raise ValueError("content: with template_id, an object of the template's variables")
        return self


class DeliveryOut(Out):
    channel: str
    recipient: str
    status: str
    attempts: int
    provider_message_id: str | None
    failure_reason: str | None = Field(None, validation_alias="last_error")
    sent_at: dt.datetime | None
    updated_at: dt.datetime


class CommunicationOut(Out):
    id: uuid.UUID
    client_id: uuid.UUID | None
    message_type: str
    subject: str
    body_text: str
    body_html: str | None
    channels: list[str]
    template_id: uuid.UUID | None
    status: str
    scheduled_at: dt.datetime | None
    completed_at: dt.datetime | None
    failure_reason: str | None
    receive_count: int
    attachments: list[dict[str, Any]]
    metadata: dict[str, Any]
    created_by: str | None
    created_at: dt.datetime
    deliveries: list[DeliveryOut] = Field(default_factory=list)
    delivery_summary: dict[str, int] = Field(default_factory=dict)


class CommunicationListQuery(PageQuery):
    client_id: uuid.UUID | None = None
    message_type: str | None = Field(None, max_length=40)
    status: CommunicationStatus | None = None
    channel: Channel | None = None
    created_from: dt.datetime | None = Field(None, description="Created at or after (ISO 8601).")
    created_to: dt.datetime | None = Field(None, description="Created before (ISO 8601).")


class InboxQuery(PageQuery):
    client_id: uuid.UUID | None = None


class UnsubscribeQuery(Strict):
    token: str = Field(min_length=10, max_length=4000)


class UnsubscribeOut(Out):
    channel: str
    recipient: str
    status: str


# -- templates -----------------------------------------------------------------------------------------------
class TemplateVariable(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    required: bool = True
    description: str | None = Field(None, max_length=300)
    max_length: int = Field(2000, ge=1, le=100_000)


class TemplateIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    message_type: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,39}$")
    subject: str = Field(min_length=1, max_length=900)
    body_text: str = Field(min_length=1, max_length=100_000)
    body_html: str | None = Field(None, max_length=200_000)
    variables: list[TemplateVariable] = Field(default_factory=list, max_length=50)
    use_layout: bool = True

    @field_validator("variables")
    @classmethod
    def _unique(cls, value: list[TemplateVariable]) -> list[TemplateVariable]:
        names = [v.name for v in value]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variable names must be unique; repeated: {', '.join(dup)}")
        return value


class TemplateOut(Out):
    id: uuid.UUID
    name: str
    message_type: str | None
    subject: str
    body_text: str
    body_html: str | None
    variables: list[dict[str, Any]]
    use_layout: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplatePreviewIn(Strict):
    client_id: uuid.UUID
    variables: dict[str, Any] = Field(default_factory=dict)


class TemplateListQuery(PageQuery):
    message_type: str | None = Field(None, max_length=40)


# -- consent and settings ----------------------------------------------------------------------------------
class ConsentIn(Strict):
    channel: Channel
    recipient: str = Field(min_length=3, max_length=2048)
    status: str = Field(pattern=r"^(opted_in|opted_out)$")
    note: str | None = Field(
        None, max_length=500, description="How the consent was obtained (for your records)."
    )


class ConsentOut(Out):
    channel: str
    recipient: str
    status: str
    source: str
    note: str | None
    updated_at: dt.datetime


class ConsentListQuery(Strict):
    tenant_id: uuid.UUID | None = None
    channel: Channel | None = None
    recipient: str | None = Field(None, max_length=2048)


class SettingsIn(Strict):
    webhook_urls: list[str] = Field(default_factory=list, max_length=10)
    sms_numbers: list[str] = Field(default_factory=list, max_length=20)


class SettingsOut(Out):
    webhook_urls: list[str]
    sms_numbers: list[str]
    has_webhook_secret: bool
    secret_rotated_at: dt.datetime | None
    signature_header: str = "X-Strategist-Signature"
    timestamp_header: str = "X-Strategist-Timestamp"
    delivery_header: str = "X-Strategist-Delivery"


class WebhookSecretOut(Out):
    secret: str = Field(description="Shown once; store it where your webhook receiver can read it.")
    rotated_at: dt.datetime
    recipe: str
