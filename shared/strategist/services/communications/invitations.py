"""The invitation e-mail, queued in the inviting transaction. The accept link carries the invitation's secret
token: it is shown redacted by the API and scrubbed from the stored message once every delivery is final."""

from __future__ import annotations

import re
import uuid

from strategist.adapters.db.models import Invitation, Tenant, User
from strategist.adapters.db.uow import UnitOfWork
from strategist.services.communications.queue import queue_communication

TOKEN_IN_LINK = re.compile(r"(accept-invitation\?token=)[^\s\"'<>&]+")
REDACTED = r"\1[removed]"


def redact(text: str | None) -> str | None:
    return None if text is None else TOKEN_IN_LINK.sub(REDACTED, text)


def queue_invitation_email(uow: UnitOfWork, invitation: Invitation, accept_url: str) -> uuid.UUID:
    tenant = uow.session.get(Tenant, invitation.tenant_id)
    agency = tenant.name if tenant else "your agency"
    inviter = uow.session.get(User, invitation.invited_by) if invitation.invited_by else None
    who = f"{inviter.name} ({inviter.email})" if inviter else agency
    role = invitation.role.replace("_", " ")
    expires = invitation.expires_at.strftime("%d %b %Y %H:%M UTC")
    text = (
        f"{who} invited you to join {agency} on Marketing Strategist as {role}.\n\n"
        f"Accept the invitation: {accept_url}\n\n"
        f"The link works once and expires on {expires}. If you did not expect this, ignore this e-mail."
    )
    from markupsafe import escape

    html = (
        f"<p>{escape(who)} invited you to join <b>{escape(agency)}</b> on Marketing Strategist as "
        f'{escape(role)}.</p><p><a href="{escape(accept_url)}">Accept the invitation</a></p>'
        f"<p>The link works once and expires on {escape(expires)}. If you did not expect this, ignore this "
        "e-mail.</p>"
    )
    return queue_communication(
        uow,
        client_id=None,
        message_type="invitation",
        subject=f"You are invited to join {agency}",
        body_text=text,
        body_html=html,
        channels=("email",),
        recipients=[invitation.email],
        dedupe_key=f"invitation:{invitation.id}",
        metadata={"invitation_id": str(invitation.id)},
    )
