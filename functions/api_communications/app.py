"""Client communications (issue 7): send (the brief's body), list and read with per-recipient delivery status,
the in-app inbox, the public unsubscribe link, templates with white-label branding, consent and settings.
Delivery itself happens in worker_communications."""

from __future__ import annotations

import uuid
from typing import Any

from chalice import Chalice, Response

from strategist import bootstrap
from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.common import Page
from strategist.http.schemas.communications import (
    CommunicationListQuery,
    CommunicationOut,
    CommunicationSend,
    ConsentIn,
    ConsentListQuery,
    ConsentOut,
    InboxQuery,
    SettingsIn,
    SettingsOut,
    TemplateIn,
    TemplateListQuery,
    TemplateOut,
    TemplatePreviewIn,
    UnsubscribeOut,
    UnsubscribeQuery,
    WebhookSecretOut,
)
from strategist.services.communications import api as svc

app = Chalice(app_name="api_communications")
api = Api(app)
COMM_ID = {"communication_id": uuid.UUID}
TPL_ID = {"template_id": uuid.UUID}
TAGS = ("communications",)


@api.route(
    "/api/v1/communication/send",
    "POST",
    summary="Send (or schedule) a client communication by e-mail, SMS, signed webhook and/or in-app",
    body=CommunicationSend,
    response=CommunicationOut,
    status=202,
    min_role=Role.ANALYST,
    envelope_key="communication",
    tags=TAGS,
)
def send_communication(ctx: RequestCtx) -> Result:
    """Recorded at once and delivered by the worker, each (channel, recipient) exactly once; the response lists
    the deliveries (pending). Unsubscribed recipients are suppressed; SMS needs a recorded opt-in. With
    template_id, `content` holds the template's variables. send_immediately=false or a scheduled_at sends later."""
    out = svc.send(ctx.uow, ctx.me, ctx.body)
    message = "Communication scheduled" if out.status == "scheduled" else "Communication queued for delivery"
    return Result(out, status=202, message=message)


@api.route(
    "/api/v1/communications",
    "GET",
    summary="Communications you can see, newest first, with per-recipient delivery status",
    query=CommunicationListQuery,
    response=Page,
    envelope_key="communications",
    tags=TAGS,
)
def list_communications(ctx: RequestCtx) -> Page:
    items, nxt = svc.list_communications(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=nxt)


@api.route(
    "/api/v1/communications/in-app",
    "GET",
    summary="In-app notifications for you (a client viewer: your client's)",
    query=InboxQuery,
    response=Page,
    envelope_key="notifications",
    tags=TAGS,
)
def in_app_notifications(ctx: RequestCtx) -> Page:
    items, nxt = svc.inbox(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=nxt)


@api.route(
    "/api/v1/communications/{communication_id}",
    "GET",
    summary="One communication: deliveries per channel and recipient, attempts and failure reasons",
    response=CommunicationOut,
    path_params=COMM_ID,
    envelope_key="communication",
    tags=TAGS,
)
def get_communication(ctx: RequestCtx) -> CommunicationOut:
    """failure_reason reads e.g. "suppressed: unsubscribed", "dead-lettered: <reason>" or "uncertain: ..." (a
    worker stopped between claiming and confirming; not resent, to avoid a duplicate)."""
    return svc.get(ctx.uow, ctx.me, ctx.path["communication_id"])


# -- unsubscribe: public, the signed token is the credential -------------------------------------------------
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head><body style="font-family:Arial,sans-serif;max-width:480px;margin:48px auto">
<h1 style="font-size:20px">{title}</h1><p>{text}</p>{form}</body></html>"""


def _html(status: int, title: str, text: str, form: str = "") -> Response:
    return Response(
        body=_PAGE.format(title=title, text=text, form=form),
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                 "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"},
    )  # fmt: skip


@api.route(
    "/api/v1/communications/unsubscribe",
    "GET",
    summary="The e-mail's unsubscribe link: a page confirming the opt-out (does not change anything by itself)",
    query=UnsubscribeQuery,
    auth=False,
    tags=TAGS,
    html=True,
)
def unsubscribe_page(ctx: RequestCtx) -> Response:
    """A GET never unsubscribes: mail scanners follow links. The page's button (or a mail client's one-click
    POST, RFC 8058) does."""
    from html import escape

    from strategist.domain.errors import NotFound

    try:
        channel, recipient, status = svc.read_unsubscribe(ctx.uow, bootstrap.key_ring(), ctx.query.token)
    except NotFound:
        return _html(404, "Link not valid", "This unsubscribe link is not valid.")
    who = escape(svc.mask(recipient))
    if status == "opted_out":
        return _html(200, "Unsubscribed", f"{who} is unsubscribed and will not receive these messages.")
    form = (
        f'<form method="post" action="?token={escape(ctx.query.token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" style="padding:8px 16px">Unsubscribe</button></form>'
    )
    return _html(200, "Unsubscribe", f"Stop {escape(channel)} messages to {who}?", form)


@api.route(
    "/api/v1/communications/unsubscribe",
    "POST",
    summary="Unsubscribe (one-click, RFC 8058): records the opt-out for that recipient and channel",
    query=UnsubscribeQuery,
    response=UnsubscribeOut,
    auth=False,
    envelope_key="unsubscribe",
    tags=TAGS,
    html=True,
)
def unsubscribe(ctx: RequestCtx) -> Any:
    channel, recipient = svc.unsubscribe(ctx.uow, bootstrap.key_ring(), ctx.query.token)
    if ctx.content_type == "application/x-www-form-urlencoded" and "text/html" in ctx.headers.get(
        "accept", ""
    ):
        from html import escape

        return _html(200, "Unsubscribed", f"{escape(svc.mask(recipient))} will not receive these messages.")
    return Result(UnsubscribeOut(channel=channel, recipient=svc.mask(recipient), status="opted_out"),
                  message="Unsubscribed")  # fmt: skip


# -- templates -------------------------------------------------------------------------------------------------
@api.route(
    "/api/v1/communication-templates",
    "POST",
    summary="Create a message template (sandboxed Jinja2; variables declared; wrapped in your branded layout)",
    body=TemplateIn,
    response=TemplateOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="template",
    tags=TAGS,
)
def create_template(ctx: RequestCtx) -> Result:
    return Result(svc.create_template(ctx.uow, ctx.me, ctx.body), status=201, message="Template created")


@api.route(
    "/api/v1/communication-templates",
    "GET",
    summary="Your tenant's message templates",
    query=TemplateListQuery,
    response=Page,
    min_role=Role.ANALYST,
    envelope_key="templates",
    tags=TAGS,
)
def list_templates(ctx: RequestCtx) -> Page:
    items, nxt = svc.list_templates(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=nxt)


@api.route(
    "/api/v1/communication-templates/{template_id}",
    "GET",
    summary="One template",
    response=TemplateOut,
    path_params=TPL_ID,
    min_role=Role.ANALYST,
    envelope_key="template",
    tags=TAGS,
)
def get_template(ctx: RequestCtx) -> TemplateOut:
    return TemplateOut.model_validate(svc.get_template(ctx.uow, ctx.me, ctx.path["template_id"]))


@api.route(
    "/api/v1/communication-templates/{template_id}",
    "PUT",
    summary="Replace a template",
    body=TemplateIn,
    response=TemplateOut,
    path_params=TPL_ID,
    min_role=Role.ANALYST,
    envelope_key="template",
    tags=TAGS,
    guard=lambda ctx: svc.get_template(ctx.uow, ctx.me, ctx.path["template_id"]),
)
def update_template(ctx: RequestCtx) -> Result:
    return Result(
        svc.update_template(ctx.uow, ctx.me, ctx.path["template_id"], ctx.body), message="Template updated"
    )


@api.route(
    "/api/v1/communication-templates/{template_id}",
    "DELETE",
    summary="Delete a template (communications already sent keep their text)",
    path_params=TPL_ID,
    status=204,
    min_role=Role.ANALYST,
    tags=TAGS,
)
def delete_template(ctx: RequestCtx) -> Result:
    svc.delete_template(ctx.uow, ctx.me, ctx.path["template_id"])
    return Result(None, status=204)


@api.route(
    "/api/v1/communication-templates/{template_id}/preview",
    "POST",
    summary="Render a template for a client with sample variables, inside the branded layout",
    body=TemplatePreviewIn,
    path_params=TPL_ID,
    min_role=Role.ANALYST,
    envelope_key="preview",
    tags=TAGS,
    guard=lambda ctx: svc.get_template(ctx.uow, ctx.me, ctx.path["template_id"]),
)
def preview_template(ctx: RequestCtx) -> dict[str, Any]:
    return svc.preview_template(
        ctx.uow, ctx.me, ctx.path["template_id"], ctx.body.client_id, ctx.body.variables
    )


# -- consent and settings --------------------------------------------------------------------------------------
@api.route(
    "/api/v1/communication-consents",
    "PUT",
    summary="Record a recipient's consent on a channel (SMS needs opted_in; opted_out suppresses any channel)",
    body=ConsentIn,
    response=ConsentOut,
    min_role=Role.ANALYST,
    envelope_key="consent",
    tags=TAGS,
)
def set_consent(ctx: RequestCtx) -> Result:
    return Result(svc.set_consent(ctx.uow, ctx.me, ctx.body), message="Consent recorded")


@api.route(
    "/api/v1/communication-consents",
    "GET",
    summary="Consent records (latest first), by channel and/or recipient",
    query=ConsentListQuery,
    response=list[ConsentOut],
    min_role=Role.ANALYST,
    envelope_key="consents",
    tags=TAGS,
)
def list_consents(ctx: RequestCtx) -> list[ConsentOut]:
    return svc.list_consents(ctx.uow, ctx.me, ctx.query)


@api.route(
    "/api/v1/communication-settings",
    "GET",
    summary="Default webhook URLs and SMS numbers, and whether a webhook signing secret exists",
    response=SettingsOut,
    min_role=Role.ADMIN,
    envelope_key="settings",
    tags=TAGS,
)
def get_settings(ctx: RequestCtx) -> SettingsOut:
    return svc.get_settings(ctx.uow, ctx.me)


@api.route(
    "/api/v1/communication-settings",
    "PUT",
    summary="Set the default webhook URLs (https) and SMS numbers (E.164)",
    body=SettingsIn,
    response=SettingsOut,
    min_role=Role.ADMIN,
    envelope_key="settings",
    tags=TAGS,
)
def put_settings(ctx: RequestCtx) -> Result:
    return Result(svc.put_settings(ctx.uow, ctx.me, ctx.body), message="Settings saved")


@api.route(
    "/api/v1/communication-settings/webhook-secret",
    "POST",
    summary="Create or rotate the webhook signing secret; it is shown only in this response",
    response=WebhookSecretOut,
    status=201,
    min_role=Role.ADMIN,
    envelope_key="webhook_secret",
    tags=TAGS,
)
def rotate_webhook_secret(ctx: RequestCtx) -> Result:
    """Receivers verify X-Strategist-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
    with X-Strategist-Timestamp within 5 minutes, and de-duplicate on X-Strategist-Delivery."""
    secret, rotated = svc.rotate_webhook_secret(ctx.uow, ctx.me, bootstrap.credential_cipher())
    recipe = (
        'expected = "sha256=" + hex(HMAC_SHA256(secret, X-Strategist-Timestamp + "." + raw_body)); accept when it '
        "equals X-Strategist-Signature (constant-time compare) and |now - timestamp| <= 300 s; de-duplicate on "
        "X-Strategist-Delivery. Python: strategist.adapters.messaging.webhook.verify_signature."
    )
    return Result(WebhookSecretOut(secret=secret, rotated_at=rotated, recipe=recipe), status=201,
                  message="Webhook secret created; it will not be shown again")  # fmt: skip
