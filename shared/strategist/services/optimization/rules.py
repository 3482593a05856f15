"""Automation rules (/api/v1/rules): a condition on a metric over the last N complete days (with minimum
conversions / spend), an action (pause, enable, scale the budget by x %, set the budget, notify), a schedule and a
scope (tenant, client, campaigns, platform). Dry run by default: a dry-run rule produces recommendations marked as
such and never changes anything; a live rule's recommendations go through the same guarded apply as a person's
(cap, cooldown, approval → pending approval instead).

Two enabled rules that could move the same campaign in opposite directions in the same run are refused at
create / update time (422 naming the other rule); should they still both fire (a scope widened by new
campaigns), neither is applied: both are recorded as 'conflict'."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import or_, select

from strategist.adapters.db.models import AutomationRule, Campaign, Client, OptimizationRecommendation
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain import optimization as dom
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from strategist.domain.money import minor_unit_exponent
from strategist.domain.platforms import Platform
from strategist.http.schemas.optimization import RuleIn, RuleListQuery, RuleOut, RuleUpdate
from strategist.services import campaigns as campaigns_svc
from strategist.services.clients import visible_to
from strategist.services.optimization import data
from strategist.services.optimization.recommend import (
    Candidate,
    budget_change,
    guardrails,
    persist,
    status_change,
)

log = logging.getLogger(__name__)

EDITABLE = (
    "name",
    "threshold",
    "window_days",
    "min_conversions",
    "min_spend",
    "action_value",
    "schedule",
    "mode",
    "enabled",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_dict(rule: AutomationRule | RuleIn) -> dict[str, Any]:
    return {
        "client_id": rule.client_id,
        "platform": rule.platform,
        "campaign_ids": list(rule.campaign_ids or []),
        "action": rule.action,
        "action_value": rule.action_value,
    }


def _check_scope(uow: UnitOfWork, principal: Principal, body: RuleIn) -> None:
    if body.platform is not None and body.platform not in {p.value for p in Platform}:
        raise ValidationFailed.one(
            "body.platform", f"'{body.platform}' is not one of {sorted(p.value for p in Platform)}"
        )
    if body.client_id is None:
        if principal.client_ids is not None:
            raise ValidationFailed.one(
                "body.client_id", "required: you can only create rules for your clients"
            )
    else:
        principal.require_client(body.client_id)
        client = uow.session.get(Client, body.client_id)
        if client is None or client.deleted_at is not None:
            raise ValidationFailed.one("body.client_id", "no such client")
    if body.campaign_ids:
        found = {
            c.id: c for c in uow.session.scalars(select(Campaign).where(Campaign.id.in_(body.campaign_ids)))
        }
        for i, cid in enumerate(body.campaign_ids):
            camp = found.get(cid)
            if camp is None or not principal.can_see_client(camp.client_id):
                raise ValidationFailed.one(f"body.campaign_ids.{i}", "no such campaign")
            if body.client_id is not None and camp.client_id != body.client_id:
                raise ValidationFailed.one(
                    f"body.campaign_ids.{i}", "belongs to another client than client_id"
                )
            if body.platform is not None and camp.platform != body.platform:
                raise ValidationFailed.one(
                    f"body.campaign_ids.{i}", f"is a {camp.platform} campaign, not {body.platform}"
                )


def _check_contradictions(
    uow: UnitOfWork, candidate: dict[str, Any], schedule: str, exclude: uuid.UUID | None
) -> None:
    stmt = select(AutomationRule).where(AutomationRule.enabled.is_(True))
    if exclude is not None:
        stmt = stmt.where(AutomationRule.id != exclude)
    for other in uow.session.scalars(stmt):
        if dom.rules_may_contradict(candidate, _as_dict(other)):
            raise ValidationFailed(
                f"contradicts rule '{other.name}' ({other.id}): both may act on the same campaigns in the same "
                f"run in opposite directions ({other.action}{'' if other.action_value is None else f' {other.action_value}'})",
                fields=[FieldProblem("body.action", f"contradicts rule {other.id} ('{other.name}')")],
            )


def _require_live_role(principal: Principal, mode: str) -> None:
    if mode == "live":
        principal.require_role(Role.ADMIN)


def create_rule(uow: UnitOfWork, principal: Principal, body: RuleIn) -> AutomationRule:
    principal.require_tenant(body.tenant_id)
    _require_live_role(principal, body.mode)
    _check_scope(uow, principal, body)
    if body.enabled:
        _check_contradictions(uow, _as_dict(body), body.schedule, None)
    rule = AutomationRule(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        created_by=principal.actor,
        **body.model_dump(exclude={"tenant_id"}),
    )
    uow.session.add(rule)
    uow.session.flush()
    uow.session.refresh(rule)
    uow.audit(
        "rule.create", "automation_rule", rule.id, after=RuleOut.model_validate(rule).model_dump(mode="json")
    )
    return rule


def get_rule(uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID) -> AutomationRule:
    rule = uow.session.get(AutomationRule, rule_id)
    if rule is None:
        raise NotFound("rule not found")
    if principal.client_ids is not None and (
        rule.client_id is None or not principal.can_see_client(rule.client_id)
    ):
        raise NotFound("rule not found")
    return rule


def list_rules(
    uow: UnitOfWork, principal: Principal, query: RuleListQuery
) -> tuple[list[AutomationRule], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = visible_to(select(AutomationRule), AutomationRule.client_id, principal, query.client_id)
    return keyset_page(
        uow.session, stmt, AutomationRule, limit=query.limit, cursor=query.cursor, newest_first=True
    )


def update_rule(
    uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID, body: RuleUpdate
) -> AutomationRule:
    rule = get_rule(uow, principal, rule_id)
    before = RuleOut.model_validate(rule).model_dump(mode="json")
    changes = body.model_dump(exclude_unset=True)
    for key in (
        "name",
        "threshold",
        "window_days",
        "min_conversions",
        "min_spend",
        "schedule",
        "mode",
        "enabled",
    ):
        if key in changes and changes[key] is None:
            raise ValidationFailed.one(f"body.{key}", "may not be null")
    try:
        merged = RuleIn.model_validate(
            {
                **{k: getattr(rule, k) for k in RuleIn.model_fields if k != "tenant_id" and hasattr(rule, k)},
                **changes,
            }
        )
    except PydanticValidationError as exc:
        # the change is valid alone but not with the rule it lands on (action_value set on a pause rule)
        problems = [
            FieldProblem(".".join(["body", *(str(p) for p in e["loc"])]), e["msg"]) for e in exc.errors()
        ]
        raise ValidationFailed("the change does not fit the rule", fields=problems) from exc
    _require_live_role(principal, merged.mode)
    if merged.enabled:
        _check_contradictions(uow, _as_dict(merged), merged.schedule, rule.id)
    for key in EDITABLE:
        setattr(rule, key, getattr(merged, key))
    rule.updated_at = _now()
    uow.session.flush()
    uow.audit(
        "rule.update",
        "automation_rule",
        rule.id,
        before=before,
        after=RuleOut.model_validate(rule).model_dump(mode="json"),
    )
    return rule


def delete_rule(uow: UnitOfWork, principal: Principal, rule_id: uuid.UUID) -> None:
    rule = get_rule(uow, principal, rule_id)
    before = RuleOut.model_validate(rule).model_dump(mode="json")
    uow.session.delete(rule)
    uow.audit("rule.delete", "automation_rule", rule_id, before=before)


# -- evaluation (the daily job) --------------------------------------------------------------------------------
def due(rule: AutomationRule, now: dt.datetime) -> bool:
    if not rule.enabled:
        return False
    if rule.last_evaluated_at is None:
        return True
    gap = dt.timedelta(hours=20) if rule.schedule == "daily" else dt.timedelta(days=6, hours=20)
    return now - rule.last_evaluated_at >= gap


def _in_scope(uow: UnitOfWork, rule: AutomationRule) -> list[Campaign]:
    wanted = "paused" if rule.action == "enable" else "active"
    stmt = (
        select(Campaign)
        .join(Client, Client.id == Campaign.client_id)
        .where(Client.deleted_at.is_(None), Campaign.status == wanted)
    )
    if rule.client_id is not None:
        stmt = stmt.where(Campaign.client_id == rule.client_id)
    if rule.platform is not None:
        stmt = stmt.where(Campaign.platform == rule.platform)
    if rule.campaign_ids:
        stmt = stmt.where(Campaign.id.in_(rule.campaign_ids))
    return list(
        uow.session.scalars(
            stmt.where(
                or_(Campaign.end_date.is_(None), Campaign.end_date >= dt.date.today() - dt.timedelta(days=1))
            )
        )
    )


def evaluate_campaign(
    uow: UnitOfWork, rule: AutomationRule, campaign: Campaign, today: dt.date, guard: dom.Guardrails
) -> tuple[Candidate | None, list[str]]:
    """The rule's candidate for this campaign (None when its condition does not hold), and what data is missing."""
    hi = today - dt.timedelta(days=1)
    lo = hi - dt.timedelta(days=rule.window_days - 1)
    rows = data.daily(uow, campaign.id, campaign.currency, lo, hi)
    sums = data.sums(rows, lo, hi)
    needs_conv = rule.metric in ("cpa", "roas", "cvr") or rule.min_conversions > 0
    missing = dom.data_gate(
        sums,
        window_days=rule.window_days,
        min_conversions=Decimal(rule.min_conversions),
        min_spend=Decimal(rule.min_spend),
        needs_conversions=needs_conv,
    )
    if missing:
        return None, missing
    value = sums.metric(rule.metric)
    if value is None:
        if rule.metric != "cpa" or sums.spend <= 0:
            return None, [f"a defined {rule.metric} (its denominator is 0 in the window)"]
        holds = rule.operator in (">", ">=")  # spend with no conversions: CPA is unbounded
        shown = "unbounded (no conversions)"
    else:
        holds = dom.compare(value, rule.operator, Decimal(rule.threshold))
        shown = str(value.quantize(Decimal("0.0001")))
    if not holds:
        return None, []
    changes: list[dict[str, Any]] = []
    notes = ""
    exponent = minor_unit_exponent(campaign.currency)
    if rule.action in ("pause", "enable"):
        changes = [status_change(campaign, "paused" if rule.action == "pause" else "active")]
    elif rule.action in ("scale_budget", "set_budget"):
        if (
            campaign.budget_type != "daily"
            or campaign.budget_amount is None
            or campaign.connection_id is None
        ):
            return None, ["a synced campaign with a daily budget for a budget action"]
        before = Decimal(campaign.budget_amount)
        assert rule.action_value is not None
        wanted = (
            before * (1 + Decimal(rule.action_value) / 100)
            if rule.action == "scale_budget"
            else Decimal(rule.action_value)
        )
        after = dom.cap_budget(before, wanted, guard.max_change_pct, exponent)
        if not dom.within_cap(before, wanted, guard.max_change_pct):
            notes = f" The rule asked for {wanted.quantize(Decimal('0.01'))}; capped at ±{guard.max_change_pct} %."
        if after == before.quantize(Decimal(1).scaleb(-exponent)):
            return None, []
        changes = [budget_change(campaign, after)]
    snapshot = data.snapshot(sums, lo, hi, campaign.currency)
    mode = "dry run" if rule.mode == "dry_run" else "live"
    return (
        Candidate(
            kind="rule_action",
            title=f"Rule '{rule.name}': {rule.action}{'' if rule.action_value is None else f' {rule.action_value}'} on {campaign.name}",
            rationale=(
                f"{rule.metric} over the last {rule.window_days} days is {shown} {rule.operator} {rule.threshold} "
                f"(with {sums.conversions} conversions, {sums.spend} spend) — the rule's condition holds ({mode})."
                + notes
            ),
            priority="high" if rule.action == "pause" else "medium",
            confidence=1.0,
            evidence={**snapshot, "rule": {"id": str(rule.id), "metric": rule.metric, "value": shown}},
            expected_impact={
                "basis": "a rule's action has no modelled impact; see the insights response curve"
            },
            changes=changes,
            campaign_id=campaign.id,
            rule_id=rule.id,
            dry_run=rule.mode == "dry_run",
        ),
        [],
    )


def evaluate(
    uow: UnitOfWork,
    principal: Principal,
    *,
    apply_live: Any,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
    actor: str = "system:job_optimize",
) -> dict[str, int]:
    """Evaluate every due rule of the tenant; live recommendations go through ``apply_live(rec)``."""
    now = now or _now()
    guard = guardrails(uow, principal.tenant_id)
    fired: dict[uuid.UUID, list[tuple[AutomationRule, Candidate]]] = {}
    counts = {
        "rules": 0,
        "fired": 0,
        "applied": 0,
        "pending_approval": 0,
        "blocked": 0,
        "conflicts": 0,
        "gated": 0,
    }
    for rule in list(uow.session.scalars(select(AutomationRule).where(AutomationRule.enabled.is_(True)))):
        if not due(rule, now):
            continue
        counts["rules"] += 1
        for camp in _in_scope(uow, rule):
            day = today or campaigns_svc.local_today(campaigns_svc.zone_of(camp, None))
            cand, missing = evaluate_campaign(uow, rule, camp, day, guard)
            if missing:
                counts["gated"] += 1
            if cand is not None:
                fired.setdefault(camp.id, []).append((rule, cand))
        rule.last_evaluated_at = now
    for camp_id, items in fired.items():
        camp = uow.session.get(Campaign, camp_id)
        assert camp is not None
        dirs = [dom.direction(ch) for _, cand in items for ch in cand.changes]
        clash = any(dom.contradicts(a, b) for a in dirs for b in dirs)
        opt = persist(
            uow,
            tenant_id=principal.tenant_id,
            client_id=camp.client_id,
            campaign_id=camp.id,
            optimization_type="performance",
            implementation_priority="high",
            found=[cand for _, cand in items],
            missing=[],
            guard=guard,
            window=None,
            actor=actor,
            source="job",
            methodology=[
                "Automation rules: each recommendation is one rule whose condition held over its window."
            ],
        )
        recs = list(
            uow.session.scalars(
                select(OptimizationRecommendation).where(OptimizationRecommendation.optimization_id == opt.id)
            )
        )
        for rec in recs:
            counts["fired"] += 1
            if clash:
                rec.status = "conflict"
                rec.result = {
                    "conflict": "another rule fired on this campaign in the opposite direction in this run"
                }
                counts["conflicts"] += 1
                continue
            if rec.dry_run or not rec.changes:
                if not rec.changes:
                    uow.emit(
                        "rule.triggered",
                        {"rule_id": rec.rule_id, "campaign_id": camp.id, "recommendation_id": rec.id},
                    )
                continue
            outcome = apply_live(rec)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def apply_guarded(
    uow: UnitOfWork,
    principal: Principal,
    platforms: Any,
    actor: str,
    rec: OptimizationRecommendation,
    now: dt.datetime | None = None,
) -> str:
    """A live rule's (or an auto-applied) recommendation through the same apply as a person's, in a savepoint: a
    guard that says no leaves it proposed with the reason, never half-applied."""
    from strategist.services.optimization import apply as apply_svc

    try:
        with uow.session.begin_nested():
            outcome = apply_svc.apply(
                uow, principal, rec.id, dry_run=False, force=False, platforms=platforms, actor=actor, now=now
            )
        return "applied" if outcome.outcome == "applied" else "pending_approval"
    except (Conflict, ValidationFailed) as exc:
        rec.result = {**(rec.result or {}), "auto_apply_blocked": exc.message}
        return "blocked"
