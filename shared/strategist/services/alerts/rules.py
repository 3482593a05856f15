"""Alert rule CRUD and the defaults a new client gets.

Defaults (installed when a client is created, through the ``client.created`` event the alert job listens to, and
on demand with POST /api/v1/alerts/rules/defaults; idempotent per kind):

- connection broken (critical): any of the client's ad-platform connections needs reconnecting, or has not synced
  for 48 hours;
- conversion tracking stopped (critical): a campaign with >= 20 clicks a day and zero conversions for 2 complete
  days after 28 days of steady conversions;
- anomaly (warning): client-level spend and conversions against their seasonal baseline, medium sensitivity;
- pacing (warning): only when the client has a monthly_budget, against it, with the weekday spend profile.

All notify in-app and by e-mail to the client's default alert recipients. A deleted default is not re-created by
the job (only by asking for the defaults again).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from strategist.adapters.db.models import AlertRule, Campaign, Client
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal
from strategist.domain.errors import FieldProblem, NotFound, ValidationFailed
from strategist.http.schemas.alerts import (
    PARAMS_MODEL,
    AlertRuleCreate,
    AlertRuleListQuery,
    AlertRuleOut,
    AlertRuleUpdate,
    RuleKind,
    Scope,
)
from strategist.services.clients import visible_to

DEFAULT_CHANNELS = ["in_app", "email"]
AUDITED = ("name", "kind", "scope", "campaign_id", "platform", "params", "channels", "recipients", "severity",
           "enabled", "is_default")  # fmt: skip


def _snapshot(rule: AlertRule) -> dict[str, Any]:
    return jsonable({k: getattr(rule, k) for k in AUDITED})


def validate_params(kind: RuleKind, params: dict[str, Any]) -> dict[str, Any]:
    """The kind's params model, with each problem named params.<field>."""
    try:
        model = PARAMS_MODEL[kind].model_validate(params)
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(["body.params", *(str(p) for p in e["loc"])]), e["msg"])
            for e in exc.errors()
        ]
        raise ValidationFailed(
            "; ".join(f"{p.field}: {p.reason}" for p in problems), fields=problems
        ) from None
    return jsonable(model.model_dump(mode="json"))


def _client(
    uow: UnitOfWork, principal: Principal, client_id: uuid.UUID, field: str = "body.client_id"
) -> Client:
    principal.require_client(client_id)
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        raise ValidationFailed.one(field, f"client {client_id} does not exist in this tenant")
    return client


def _check_target(
    kind: str, scope: str, params: dict[str, Any], client: Client, campaign: Campaign | None
) -> None:
    if kind != RuleKind.PACING or params.get("monthly_target") is not None:
        return
    if scope == Scope.CLIENT and client.monthly_budget is None:
        raise ValidationFailed.one(
            "body.params.monthly_target", "required: the client has no monthly_budget to pace against"
        )
    if scope == Scope.PLATFORM:
        raise ValidationFailed.one(
            "body.params.monthly_target",
            "required for scope platform: the client's budget covers every platform",
        )
    if scope == Scope.CAMPAIGN and (campaign is None or campaign.budget_amount is None):
        raise ValidationFailed.one(
            "body.params.monthly_target", "required: the campaign has no budget on record"
        )


def _check_recipients(channels: list[str], recipients: list[str]) -> None:
    """Each recipient must be for one of the rule's channels (an address for email, a +number for sms, a URL
    for webhook)."""
    from strategist.services.communications.queue import classify_recipient

    for i, r in enumerate(recipients):
        kind = classify_recipient(r)
        if kind is None:
            raise ValidationFailed.one(
                f"body.recipients.{i}", "not an e-mail address, an E.164 number or a URL"
            )
        if kind[0] not in channels:
            raise ValidationFailed.one(
                f"body.recipients.{i}", f"is a {kind[0]} recipient but channels does not include {kind[0]!r}"
            )


def create_rule(
    uow: UnitOfWork, principal: Principal, body: AlertRuleCreate, *, is_default: bool = False
) -> AlertRuleOut:
    principal.require_tenant(body.tenant_id)
    client = _client(uow, principal, body.client_id)
    params = validate_params(body.kind, body.params)
    campaign = None
    if body.campaign_id is not None:
        campaign = uow.session.get(Campaign, body.campaign_id)
        if campaign is None or campaign.client_id != client.id:
            raise ValidationFailed.one("body.campaign_id", "no such campaign for this client")
    _check_target(body.kind, body.scope, params, client, campaign)
    rule = AlertRule(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        name=body.name,
        kind=body.kind.value,
        scope=body.scope.value,
        campaign_id=body.campaign_id,
        platform=None if body.platform is None else body.platform.value,
        params=params,
        channels=[c.value for c in body.channels] if body.channels is not None else list(DEFAULT_CHANNELS),
        recipients=list(body.recipients or []),
        severity=body.severity.value,
        enabled=body.enabled,
        is_default=is_default,
        created_by=principal.user_id,
    )
    _check_recipients(rule.channels, rule.recipients)
    uow.session.add(rule)
    uow.session.flush()
    uow.session.refresh(rule)
    uow.audit("alert_rule.created", "alert_rule", rule.id, after=_snapshot(rule))
    return AlertRuleOut.model_validate(rule)


def get_rule(uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID, *, lock: bool = False) -> AlertRule:
    stmt = (
        select(AlertRule)
        .join(Client, Client.id == AlertRule.client_id)
        .where(AlertRule.id == rule_id, Client.deleted_at.is_(None))
    )
    rule = uow.session.scalar(stmt.with_for_update(of=AlertRule) if lock else stmt)
    if rule is None or not principal.can_see_client(rule.client_id):
        raise NotFound("alert rule not found")
    return rule


def list_rules(
    uow: UnitOfWork, principal: Principal, query: AlertRuleListQuery
) -> tuple[list[AlertRuleOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = select(AlertRule).join(Client, Client.id == AlertRule.client_id).where(Client.deleted_at.is_(None))
    stmt = visible_to(stmt, AlertRule.client_id, principal, query.client_id)
    if query.kind is not None:
        stmt = stmt.where(AlertRule.kind == query.kind.value)
    if query.enabled is not None:
        stmt = stmt.where(AlertRule.enabled == query.enabled)
    rows, nxt = keyset_page(
        uow.session, stmt, AlertRule, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [AlertRuleOut.model_validate(r) for r in rows], nxt


def update_rule(
    uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID, body: AlertRuleUpdate
) -> AlertRuleOut:
    rule = get_rule(uow, principal, rule_id, lock=True)
    before = _snapshot(rule)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationFailed.one("body", "nothing to change")
    for key in ("name", "severity", "enabled"):
        if key in changes:
            if changes[key] is None:
                raise ValidationFailed.one(f"body.{key}", "must not be null")
            setattr(rule, key, getattr(changes[key], "value", changes[key]))
    if "params" in changes:
        if body.params is None:
            raise ValidationFailed.one("body.params", "must not be null")
        params = validate_params(RuleKind(rule.kind), body.params)
        client = uow.session.get(Client, rule.client_id)
        campaign = uow.session.get(Campaign, rule.campaign_id) if rule.campaign_id else None
        assert client is not None
        _check_target(rule.kind, rule.scope, params, client, campaign)
        rule.params = params
    if "channels" in changes:
        rule.channels = (
            [c.value for c in body.channels] if body.channels is not None else list(DEFAULT_CHANNELS)
        )
    if "recipients" in changes:
        rule.recipients = list(body.recipients or [])
    _check_recipients(rule.channels, rule.recipients)
    rule.updated_at = dt.datetime.now(dt.UTC)
    uow.session.flush()
    uow.audit("alert_rule.updated", "alert_rule", rule.id, before=before, after=_snapshot(rule))
    return AlertRuleOut.model_validate(rule)


def delete_rule(uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID) -> None:
    """The rule goes, and its alerts (open and resolved) with it."""
    rule = get_rule(uow, principal, rule_id, lock=True)
    uow.audit("alert_rule.deleted", "alert_rule", rule.id, before=_snapshot(rule))
    uow.session.delete(rule)
    uow.session.flush()


def default_rules(client: Client) -> list[AlertRuleCreate]:
    specs: list[dict[str, Any]] = [
        {"name": "Connection broken", "kind": "connection_broken", "severity": "critical",
         "params": {"stale_after_hours": 48}},
        {"name": "Conversion tracking stopped", "kind": "tracking_stopped", "severity": "critical", "params": {}},
        {"name": "Spend or conversions anomaly", "kind": "anomaly", "severity": "warning",
         "params": {"metrics": ["cost", "conversions"], "sensitivity": "medium"}},
    ]  # fmt: skip
    if client.monthly_budget is not None:
        specs.append({"name": "Monthly budget pacing", "kind": "pacing", "severity": "warning", "params": {}})
    return [AlertRuleCreate.model_validate({**s, "client_id": client.id, "scope": "client"}) for s in specs]


def install_defaults(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID) -> list[AlertRuleOut]:
    """Creates the default rules the client does not have yet (by kind); returns the ones created."""
    client = _client(uow, principal, client_id)
    have = set(
        uow.session.scalars(
            select(AlertRule.kind).where(AlertRule.client_id == client.id, AlertRule.is_default.is_(True))
        )
    )
    return [
        create_rule(uow, principal, spec, is_default=True)
        for spec in default_rules(client)
        if spec.kind.value not in have
    ]
