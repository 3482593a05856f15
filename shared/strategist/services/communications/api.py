"""The communications API's use cases: send (the brief's body), list and read with per-recipient delivery status,
the in-app inbox, the public unsubscribe link, templates, consent and the tenant's settings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import any_, func, literal, select

from strategist.adapters.db.models import (
    Client,
    ClientCommunication,
    CommunicationConsent,
    CommunicationDelivery,
    CommunicationSettings,
    CommunicationTemplate,
    Tenant,
)
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal
from strategist.domain.errors import Conflict, NotFound, ValidationFailed
from strategist.http.schemas.communications import (
    CommunicationListQuery,
    CommunicationOut,
    CommunicationSend,
    ConsentIn,
    ConsentListQuery,
    ConsentOut,
    DeliveryOut,
    InboxQuery,
    SettingsIn,
    SettingsOut,
    TemplateIn,
    TemplateListQuery,
    TemplateOut,
)
from strategist.services.clients import visible_to
from strategist.services.communications.queue import (
    classify_recipient,
    normalize_email,
    normalize_phone,
    normalize_webhook_url,
    queue_communication,
)
from strategist.services.communications.rendering import (
    BUILTIN_VARIABLES,
    Branding,
    check_template,
    render,
    wrap,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- send ------------------------------------------------------------------------------------------------------
def _client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> Client:
    principal.require_client(client_id)
    client = uow.session.get(Client, client_id)
    if client is None or client.deleted_at is not None:
        raise NotFound("client not found")
    return client


def _template(uow: UnitOfWork, template_id: uuid.UUID) -> CommunicationTemplate:
    tpl = uow.session.get(CommunicationTemplate, template_id)
    if tpl is None or tpl.deleted_at is not None:
        raise ValidationFailed.one("template_id", "no such template in this tenant")
    return tpl


def template_variables(
    tpl: CommunicationTemplate, given: dict[str, Any], builtins: dict[str, str]
) -> dict[str, Any]:
    declared = {v["name"]: v for v in tpl.variables or []}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValidationFailed.one(f"content.{unknown[0]}", "not a variable of this template")
    values: dict[str, Any] = dict(builtins)
    for name, spec in declared.items():
        if name not in given or given[name] is None or given[name] == "":
            if spec.get("required", True):
                raise ValidationFailed.one(f"content.{name}", "required by the template")
            values[name] = ""
            continue
        value = given[name]
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValidationFailed.one(f"content.{name}", "must be a string or a number")
        if len(str(value)) > int(spec.get("max_length", 2000)):
            raise ValidationFailed.one(
                f"content.{name}", f"at most {spec.get('max_length', 2000)} characters"
            )
        values[name] = value
    return values


def send(uow: UnitOfWork, principal: Principal, data: CommunicationSend) -> CommunicationOut:
    principal.require_tenant(data.tenant_id)
    client = _client(uow, principal, data.client_id)
    tenant = uow.session.get(Tenant, principal.tenant_id)
    branding = Branding.from_tenant(tenant.name if tenant else "", tenant.branding if tenant else {})
    channels = [c.value for c in data.channels]
    if "webhook" in channels:
        settings = uow.session.get(CommunicationSettings, principal.tenant_id)
        if settings is None or not settings.webhook_secret:
            raise ValidationFailed.one(
                "channels",
                "webhook needs a signing secret first: POST /api/v1/communication-settings/webhook-secret",
            )
    tpl: CommunicationTemplate | None = None
    if data.template_id is not None:
        tpl = _template(uow, data.template_id)
        variables = template_variables(
            tpl,
            data.content if isinstance(data.content, dict) else {},
            {
                "tenant_name": tenant.name if tenant else "",
                "client_name": client.name,
                "sender_name": branding.sender_name,
            },
        )
        subject, body_text, body_html = render(
            subject=data.subject or tpl.subject,
            body_text=tpl.body_text,
            body_html=tpl.body_html,
            variables=variables,
        )
    elif isinstance(data.content, dict):
        subject = data.subject or data.content.get("subject") or ""
        body_text = data.content.get("body") or ""
        body_html = data.content.get("html")
        if not body_text and body_html:
            import re
            from html import unescape

            body_text = unescape(re.sub(r"<[^>]+>", " ", body_html))
            body_text = "\n".join(" ".join(line.split()) for line in body_text.splitlines() if line.strip())
    else:
        subject, body_text, body_html = data.subject or "", str(data.content), None
    if not subject:
        subject = f"{data.message_type.replace('_', ' ').capitalize()}: {client.name}"
    if "email" in channels and not any("@" in r for r in data.recipients or ()) and not client.contact_emails:
        raise ValidationFailed.one(
            "recipients", f"no e-mail recipient given and client {client.name!r} has no contact_emails"
        )
    key = f"api:{data.idempotency_key}" if data.idempotency_key else f"api:{uuid.uuid4()}"
    comm_id = queue_communication(
        uow,
        client_id=client.id,
        message_type=data.message_type,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        channels=channels,
        recipients=data.recipients,
        dedupe_key=key,
        scheduled_at=data.scheduled_at,
        template_id=data.template_id,
        content={"content": data.content} if data.content is not None else {},
        metadata={"layout": False} if tpl is not None and not tpl.use_layout else None,
        send_immediately=data.send_immediately,
    )
    return get(uow, principal, comm_id)


# -- read ------------------------------------------------------------------------------------------------------
def _out(comm: ClientCommunication, deliveries: list[CommunicationDelivery]) -> CommunicationOut:
    from strategist.services.communications.invitations import redact

    out = CommunicationOut.model_validate(
        {
            **{
                k: getattr(comm, k)
                for k in CommunicationOut.model_fields
                if hasattr(comm, k) and k != "metadata"
            },
            "metadata": comm.metadata_ or {},
            "deliveries": [DeliveryOut.model_validate(d) for d in deliveries],
            "delivery_summary": dict(Counter(d.status for d in deliveries)),
        }
    )
    if comm.message_type == "invitation":  # the accept link is a credential
        out.body_text = redact(out.body_text) or ""
        out.body_html = redact(out.body_html)
    return out


def _visible(principal: Principal, comm: ClientCommunication | None) -> ClientCommunication:
    if comm is None:
        raise NotFound("communication not found")
    if comm.client_id is None:
        if principal.client_ids is not None:
            raise NotFound("communication not found")
    elif not principal.can_see_client(comm.client_id):
        raise NotFound("communication not found")
    return comm


def get(uow: UnitOfWork, principal: Principal, communication_id: uuid.UUID) -> CommunicationOut:
    comm = _visible(principal, uow.session.get(ClientCommunication, communication_id))
    deliveries = list(
        uow.session.scalars(
            select(CommunicationDelivery)
            .where(CommunicationDelivery.communication_id == comm.id)
            .order_by(CommunicationDelivery.channel, CommunicationDelivery.recipient)
        )
    )
    return _out(comm, deliveries)


def _deliveries_of(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[CommunicationDelivery]]:
    by: dict[uuid.UUID, list[CommunicationDelivery]] = {i: [] for i in ids}
    if ids:
        for d in uow.session.scalars(
            select(CommunicationDelivery)
            .where(CommunicationDelivery.communication_id.in_(ids))
            .order_by(CommunicationDelivery.channel, CommunicationDelivery.recipient)
        ):
            by[d.communication_id].append(d)
    return by


def list_communications(
    uow: UnitOfWork, principal: Principal, query: CommunicationListQuery
) -> tuple[list[CommunicationOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = visible_to(select(ClientCommunication), ClientCommunication.client_id, principal, query.client_id)
    if query.message_type:
        stmt = stmt.where(ClientCommunication.message_type == query.message_type)
    if query.status is not None:
        stmt = stmt.where(ClientCommunication.status == query.status.value)
    if query.channel is not None:
        stmt = stmt.where(literal(query.channel.value) == any_(ClientCommunication.channels))
    if query.created_from is not None:
        stmt = stmt.where(ClientCommunication.created_at >= query.created_from)
    if query.created_to is not None:
        stmt = stmt.where(ClientCommunication.created_at < query.created_to)
    rows, nxt = keyset_page(
        uow.session, stmt, ClientCommunication, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    by = _deliveries_of(uow, [r.id for r in rows])
    return [_out(r, by[r.id]) for r in rows], nxt


def inbox(
    uow: UnitOfWork, principal: Principal, query: InboxQuery
) -> tuple[list[CommunicationOut], str | None]:
    """In-app notifications: the communications sent on the in_app channel that the caller may see (a client
    viewer: its client's; agency staff: every client's and the tenant-level ones)."""
    principal.require_tenant(query.tenant_id)
    stmt = visible_to(select(ClientCommunication), ClientCommunication.client_id, principal, query.client_id)
    stmt = stmt.where(
        literal("in_app") == any_(ClientCommunication.channels),
        ClientCommunication.status.notin_(("scheduled", "queued")),
    )
    rows, nxt = keyset_page(
        uow.session, stmt, ClientCommunication, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    by = _deliveries_of(uow, [r.id for r in rows])
    return [_out(r, [d for d in by[r.id] if d.channel == "in_app"]) for r in rows], nxt


# -- consent ---------------------------------------------------------------------------------------------------
def normalize_recipient(channel: str, recipient: str, field: str = "recipient") -> str:
    if channel == "email":
        value = normalize_email(recipient)
    elif channel == "sms":
        value = normalize_phone(recipient)
    elif channel == "webhook":
        value = normalize_webhook_url(recipient)
    else:
        value = recipient.strip() or None
    if not value:
        raise ValidationFailed.one(field, f"not a valid {channel} recipient")
    return value.lower() if channel == "email" else value


def record_consent(
    uow: UnitOfWork, *, channel: str, recipient: str, status: str, source: str, note: str | None = None
) -> CommunicationConsent:
    from sqlalchemy.dialects.postgresql import insert

    assert uow.tenant_id is not None
    now = _now()
    uow.session.execute(
        insert(CommunicationConsent)
        .values(
            tenant_id=uow.tenant_id,
            channel=channel,
            recipient=recipient,
            status=status,
            source=source,
            note=note,
        )
        .on_conflict_do_update(
            constraint="uq_communication_consents",
            set_={"status": status, "source": source, "note": note, "updated_at": now},
        )
    )
    row = uow.session.scalar(
        select(CommunicationConsent).where(
            CommunicationConsent.channel == channel, CommunicationConsent.recipient == recipient
        )
    )
    assert row is not None
    uow.session.refresh(row)
    uow.audit("communication_consent.set", "communication_consent", row.id, after={
        "channel": channel, "recipient": recipient, "status": status, "source": source})  # fmt: skip
    return row


def set_consent(uow: UnitOfWork, principal: Principal, data: ConsentIn) -> ConsentOut:
    recipient = normalize_recipient(data.channel.value, data.recipient)
    row = record_consent(
        uow, channel=data.channel.value, recipient=recipient, status=data.status, source="api", note=data.note
    )
    return ConsentOut.model_validate(row)


def list_consents(uow: UnitOfWork, principal: Principal, query: ConsentListQuery) -> list[ConsentOut]:
    principal.require_tenant(query.tenant_id)
    stmt = select(CommunicationConsent).order_by(CommunicationConsent.updated_at.desc()).limit(500)
    if query.channel is not None:
        stmt = stmt.where(CommunicationConsent.channel == query.channel.value)
    if query.recipient:
        channel = (
            query.channel.value
            if query.channel
            else (classify_recipient(query.recipient) or ("email", ""))[0]
        )
        stmt = stmt.where(
            CommunicationConsent.recipient == normalize_recipient(channel, query.recipient, "query.recipient")
        )
    return [ConsentOut.model_validate(r) for r in uow.session.scalars(stmt)]


# -- templates -------------------------------------------------------------------------------------------------
def _check(data: TemplateIn) -> None:
    check_template(
        {"subject": data.subject, "body_text": data.body_text, "body_html": data.body_html},
        [v.name for v in data.variables],
    )
    clash = sorted({v.name for v in data.variables} & set(BUILTIN_VARIABLES))
    if clash:
        raise ValidationFailed.one("variables", f"{', '.join(clash)} is built in; choose another name")


def _name_taken(uow: UnitOfWork, name: str, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(CommunicationTemplate.id).where(
        func.lower(CommunicationTemplate.name) == func.lower(name), CommunicationTemplate.deleted_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(CommunicationTemplate.id != except_id)
    return uow.session.scalar(stmt) is not None


def create_template(uow: UnitOfWork, principal: Principal, data: TemplateIn) -> TemplateOut:
    _check(data)
    if _name_taken(uow, data.name):
        raise Conflict(f"a template named {data.name!r} already exists")
    tpl = CommunicationTemplate(
        tenant_id=principal.tenant_id,
        name=data.name,
        message_type=data.message_type,
        subject=data.subject,
        body_text=data.body_text,
        body_html=data.body_html,
        variables=[v.model_dump() for v in data.variables],
        use_layout=data.use_layout,
        created_by=principal.user_id,
    )
    uow.session.add(tpl)
    uow.session.flush()
    uow.session.refresh(tpl)
    uow.audit("communication_template.create", "communication_template", tpl.id, after=data.model_dump())
    return TemplateOut.model_validate(tpl)


def get_template(uow: UnitOfWork, principal: Principal, template_id: uuid.UUID) -> CommunicationTemplate:
    tpl = uow.session.get(CommunicationTemplate, template_id)
    if tpl is None or tpl.deleted_at is not None:
        raise NotFound("template not found")
    return tpl


def update_template(
    uow: UnitOfWork, principal: Principal, template_id: uuid.UUID, data: TemplateIn
) -> TemplateOut:
    tpl = get_template(uow, principal, template_id)
    _check(data)
    if _name_taken(uow, data.name, except_id=tpl.id):
        raise Conflict(f"a template named {data.name!r} already exists")
    before = TemplateOut.model_validate(tpl).model_dump()
    tpl.name, tpl.message_type, tpl.subject = data.name, data.message_type, data.subject
    tpl.body_text, tpl.body_html, tpl.use_layout = data.body_text, data.body_html, data.use_layout
    tpl.variables = [v.model_dump() for v in data.variables]
    tpl.updated_at = _now()
    uow.session.flush()
    uow.audit(
        "communication_template.update",
        "communication_template",
        tpl.id,
        before=before,
        after=data.model_dump(),
    )
    return TemplateOut.model_validate(tpl)


def delete_template(uow: UnitOfWork, principal: Principal, template_id: uuid.UUID) -> None:
    tpl = get_template(uow, principal, template_id)
    tpl.deleted_at = _now()
    uow.audit("communication_template.delete", "communication_template", tpl.id)


def list_templates(
    uow: UnitOfWork, principal: Principal, query: TemplateListQuery
) -> tuple[list[TemplateOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = select(CommunicationTemplate).where(CommunicationTemplate.deleted_at.is_(None))
    if query.message_type:
        stmt = stmt.where(CommunicationTemplate.message_type == query.message_type)
    rows, nxt = keyset_page(
        uow.session, stmt, CommunicationTemplate, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [TemplateOut.model_validate(r) for r in rows], nxt


def preview_template(
    uow: UnitOfWork,
    principal: Principal,
    template_id: uuid.UUID,
    client_id: uuid.UUID,
    variables: dict[str, Any],
) -> dict[str, Any]:
    tpl = get_template(uow, principal, template_id)
    client = _client(uow, principal, client_id)
    tenant = uow.session.get(Tenant, principal.tenant_id)
    branding = Branding.from_tenant(tenant.name if tenant else "", tenant.branding if tenant else {})
    values = template_variables(
        tpl, variables, {"tenant_name": tenant.name if tenant else "", "client_name": client.name,
                         "sender_name": branding.sender_name}
    )  # fmt: skip
    subject, text, html = render(
        subject=tpl.subject, body_text=tpl.body_text, body_html=tpl.body_html, variables=values
    )
    full_text, full_html = wrap(
        subject=subject,
        body_text=text,
        body_html=html,
        branding=branding,
        unsubscribe_url=None,
        layout=tpl.use_layout,
    )
    return {"subject": subject, "body_text": full_text, "body_html": full_html}


# -- settings --------------------------------------------------------------------------------------------------
def _settings_out(row: CommunicationSettings | None) -> SettingsOut:
    return SettingsOut(
        webhook_urls=list(row.webhook_urls) if row else [],
        sms_numbers=list(row.sms_numbers) if row else [],
        has_webhook_secret=bool(row and row.webhook_secret),
        secret_rotated_at=row.secret_rotated_at if row else None,
    )


def get_settings(uow: UnitOfWork, principal: Principal) -> SettingsOut:
    return _settings_out(uow.session.get(CommunicationSettings, principal.tenant_id))


def _settings_row(uow: UnitOfWork, principal: Principal) -> CommunicationSettings:
    row = uow.session.get(CommunicationSettings, principal.tenant_id)
    if row is None:
        row = CommunicationSettings(tenant_id=principal.tenant_id, webhook_urls=[], sms_numbers=[])
        uow.session.add(row)
        uow.session.flush()
    return row


def put_settings(uow: UnitOfWork, principal: Principal, data: SettingsIn) -> SettingsOut:
    urls = [normalize_recipient("webhook", u, f"webhook_urls[{i}]") for i, u in enumerate(data.webhook_urls)]
    for i, url in enumerate(urls):
        if not url.startswith("https://"):
            raise ValidationFailed.one(
                f"webhook_urls[{i}]", "must be https (the payload carries client data)"
            )
    numbers = [normalize_recipient("sms", n, f"sms_numbers[{i}]") for i, n in enumerate(data.sms_numbers)]
    row = _settings_row(uow, principal)
    before = _settings_out(row).model_dump()
    row.webhook_urls, row.sms_numbers, row.updated_at = urls, numbers, _now()
    uow.session.flush()
    uow.audit("communication_settings.update", "communication_settings", principal.tenant_id, before=before,
              after={"webhook_urls": urls, "sms_numbers": numbers})  # fmt: skip
    return _settings_out(row)


def rotate_webhook_secret(uow: UnitOfWork, principal: Principal, cipher: Any) -> tuple[str, dt.datetime]:
    from strategist.services.communications.delivery import new_webhook_secret, secret_context

    secret = new_webhook_secret()
    row = _settings_row(uow, principal)
    row.webhook_secret = cipher.encrypt({"secret": secret}, context=secret_context(principal.tenant_id))
    row.secret_rotated_at = row.updated_at = _now()
    uow.session.flush()
    uow.audit("communication_settings.rotate_webhook_secret", "communication_settings", principal.tenant_id)
    return secret, row.secret_rotated_at


# -- unsubscribe (public, signed link) -------------------------------------------------------------------------
def read_unsubscribe(uow: UnitOfWork, ring: Any, token: str) -> tuple[str, str, str]:
    """(channel, recipient, current status) for a valid token; the tenant is taken from the signed token."""
    from strategist.services.communications.tokens import read_token

    claim = read_token(ring, token)
    if claim is None:
        raise NotFound("this unsubscribe link is not valid")
    uow.set_tenant(claim.tenant_id)
    current = uow.session.scalar(
        select(CommunicationConsent.status).where(
            CommunicationConsent.channel == claim.channel,
            CommunicationConsent.recipient == claim.recipient.lower(),
        )
    )
    return claim.channel, claim.recipient, current or "subscribed"


def unsubscribe(uow: UnitOfWork, ring: Any, token: str) -> tuple[str, str]:
    channel, recipient, _ = read_unsubscribe(uow, ring, token)
    record_consent(
        uow, channel=channel, recipient=recipient.lower(), status="opted_out", source="unsubscribe_link"
    )
    uow.emit("communication.unsubscribed", {"channel": channel})
    return channel, recipient


def mask(recipient: str) -> str:
    """j***@example.com: the page is public, whoever holds the link sees only a hint of the address."""
    local, at, domain = recipient.partition("@")
    if not at:
        return recipient[:3] + "***" + recipient[-2:]
    return f"{local[:1]}***@{domain}"
