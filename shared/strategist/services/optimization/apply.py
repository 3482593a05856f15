"""Applying a recommendation's platform changes, safely: dry run (the default) validates with the platform
(validate-only where it has one: Google Ads ``validateOnly``, Meta ``execution_options=["validate_only"]``;
LinkedIn and TikTok have none, so the request is built and checked here and nothing is sent) and shows the exact
requests; a real apply re-reads the platform's live value (refusing when it moved since the recommendation,
unless forced), validates, writes, and records before / after and the triggering snapshot in ``audit_log``.

Guards, in order: the recommendation's state, the change-size cap, the per-campaign cooldown, no contradicting
change pending on the same campaign, and the approval of budget raises above the tenant's thresholds (by an
owner/admin who is not the requester). Undo restores the recorded before state, refusing when the platform value
changed since the apply, unless forced.

The request's transaction stays open while the platform is called (a few calls per change): a platform write and
its audit row commit together or the platform is put back (a failed multi-change apply reverts the changes it
already made)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from strategist.adapters.db.models import Campaign, OptimizationRecommendation, PlatformConnection
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain import optimization as dom
from strategist.domain.auth import ROLE_RANK, Principal, Role
from strategist.domain.errors import Conflict, Forbidden, ValidationFailed
from strategist.services.clients import get_client_owned
from strategist.services.connections import cipher_context
from strategist.services.optimization.recommend import guardrails
from strategist.services.ports import ConnectorFactory, CredentialCipher

#: a live budget within this share of the recommendation's "before" counts as unchanged
STALE_TOLERANCE = Decimal("0.005")


@dataclass(frozen=True)
class Platforms:
    cipher: CredentialCipher
    connectors: ConnectorFactory


@dataclass
class Outcome:
    recommendation: OptimizationRecommendation
    dry_run: bool
    outcome: str  # validated | applied | pending_approval | undone | blocked
    requests: list[dict[str, Any]] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    requires_approval: list[str] = field(default_factory=list)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def get_recommendation(
    uow: UnitOfWork, principal: Principal, rec_id: uuid.UUID, *, lock: bool = False
) -> OptimizationRecommendation:
    """With ``lock``, the recommendation and the campaigns it changes are locked for the transaction, so two
    concurrent applies (or an apply and an undo) cannot both pass the cooldown check."""
    row = get_client_owned(uow, principal, OptimizationRecommendation, rec_id, "recommendation", lock=lock)
    ids = sorted({uuid.UUID(ch["campaign_id"]) for ch in row.changes}) if lock else []
    if ids:
        uow.session.execute(
            select(Campaign.id).where(Campaign.id.in_(ids)).order_by(Campaign.id).with_for_update()
        )
    return row


def approval_reasons(rec: OptimizationRecommendation, guard: dom.Guardrails) -> list[str]:
    reasons = []
    for ch in rec.changes:
        why = dom.approval_reason(ch, guard)
        if why:
            reasons.append(f"{ch.get('campaign_name', ch['campaign_id'])}: {why}")
    return reasons


def last_change_at(
    uow: UnitOfWork, campaign_id: str, exclude: uuid.UUID | None
) -> tuple[dt.datetime | None, uuid.UUID | None]:
    """The latest apply or undo of any recommendation touching the campaign."""
    stmt = select(OptimizationRecommendation).where(
        OptimizationRecommendation.status.in_(("applied", "undone")),
        OptimizationRecommendation.changes.contains([{"campaign_id": campaign_id}]),
    )
    if exclude is not None:
        stmt = stmt.where(OptimizationRecommendation.id != exclude)
    latest: tuple[dt.datetime | None, uuid.UUID | None] = (None, None)
    for r in uow.session.scalars(stmt):
        for t in (r.applied_at, r.undone_at):
            if t is not None and (latest[0] is None or t > latest[0]):
                latest = (t, r.id)
    return latest


def guard_problems(
    uow: UnitOfWork, rec: OptimizationRecommendation, guard: dom.Guardrails, now: dt.datetime
) -> list[tuple[str, str]]:
    """(kind, message) for every guard the recommendation fails now: kind is 'cap', 'cooldown' or 'conflict'."""
    problems: list[tuple[str, str]] = []
    for ch in rec.changes:
        if ch["action"] == "set_budget" and not dom.within_cap(
            Decimal(ch["before"]), Decimal(ch["after"]), guard.max_change_pct
        ):
            problems.append(
                (
                    "cap",
                    f"{ch.get('campaign_name')}: {ch['before']} -> {ch['after']} exceeds the ±{guard.max_change_pct} "
                    "% cap per change",
                )
            )
        last, other = last_change_at(uow, ch["campaign_id"], rec.id)
        if dom.in_cooldown(last, guard.cooldown_hours, now):
            until = dom.cooldown_until(last, guard.cooldown_hours)
            problems.append(
                (
                    "cooldown",
                    f"{ch.get('campaign_name')} was changed at {last:%Y-%m-%d %H:%M} UTC (recommendation {other}); "
                    f"the {guard.cooldown_hours} h cooldown ends {until:%Y-%m-%d %H:%M} UTC",
                )
            )
        pending = uow.session.scalars(
            select(OptimizationRecommendation).where(
                OptimizationRecommendation.id != rec.id,
                OptimizationRecommendation.status == "pending_approval",
                OptimizationRecommendation.changes.contains([{"campaign_id": ch["campaign_id"]}]),
            )
        )
        for p in pending:
            for pc in p.changes:
                if pc["campaign_id"] == ch["campaign_id"] and dom.contradicts(
                    dom.direction(pc), dom.direction(ch)
                ):
                    problems.append(
                        (
                            "conflict",
                            f"{ch.get('campaign_name')}: recommendation {p.id} awaiting approval moves it the other way",
                        )
                    )
    return problems


# -- talking to the platforms ----------------------------------------------------------------------------------
@contextmanager
def _connector(uow: UnitOfWork, connection_id: str, platforms: Platforms) -> Iterator[Any]:
    conn = uow.session.get(PlatformConnection, uuid.UUID(connection_id))
    if conn is None or conn.deleted_at is not None:
        raise Conflict("the campaign's platform connection no longer exists")
    if conn.status != "active":
        raise Conflict(f"the campaign's platform connection is {conn.status}: reconnect it first")
    try:
        credentials = platforms.cipher.decrypt(conn.credentials, context=cipher_context(conn))
    except Exception as exc:  # a key that no longer exists or a tampered blob: a person must reconnect
        raise Conflict(
            f"the connection's stored credentials cannot be decrypted ({type(exc).__name__}); reconnect it"
        ) from exc

    def persist(new_credentials: Any) -> None:
        conn.credentials = platforms.cipher.encrypt(
            new_credentials.to_storage(), context=cipher_context(conn)
        )

    with platforms.connectors(conn.platform, credentials, base_url=conn.base_url, on_refresh=persist) as c:
        yield c


def _live(connector: Any, external_id: str) -> Any:
    for c in connector.list_campaigns():
        if str(c.id) == str(external_id):
            return c
    raise Conflict(f"campaign {external_id} is no longer on the platform")


def _live_value(ch: dict[str, Any], live: Any) -> str:
    if ch["action"] == "set_status":
        return str(live.status.value)
    if live.budget is None or live.budget.budget_type.value != "daily":
        raise Conflict(f"{ch.get('campaign_name')}: the platform no longer has a daily campaign budget")
    return str(live.budget.amount)


def _same(ch: dict[str, Any], live_value: str | None, expected: str | None) -> bool:
    if ch["action"] == "set_status":
        return live_value == expected
    if live_value is None or expected is None:
        return live_value == expected
    a, b = Decimal(live_value), Decimal(expected)
    return abs(a - b) <= abs(b) * STALE_TOLERANCE


def _write(connector: Any, ch: dict[str, Any], value: str | None, *, validate_only: bool) -> dict[str, Any]:
    from strategist.domain.metrics import BudgetType, CampaignStatus

    before: str | None = None
    if ch["action"] == "set_status":
        change = connector.update_status(
            ch["external_id"], CampaignStatus(value), validate_only=validate_only
        )
    elif ch["action"] == "set_target":
        if not hasattr(connector, "update_target"):
            raise ValidationFailed.one(
                "recommendation.changes", f"{ch['platform']} bid targets are not written by its connector"
            )
        change = connector.update_target(
            ch["external_id"],
            ch["field"],
            None if value is None else Decimal(value),
            validate_only=validate_only,
        )
        before = None if change.before is None else str(change.before)
    else:
        change = connector.update_budget(
            ch["external_id"], Decimal(str(value)), BudgetType.DAILY, validate_only=validate_only
        )
    return {
        "request": jsonable(dict(change.request)),
        "response": jsonable(dict(change.response)),
        "sent": change.sent,
        "validate_only": validate_only,
        "before": before,
    }


def _run(
    uow: UnitOfWork,
    rec: OptimizationRecommendation,
    platforms: Platforms,
    *,
    targets: list[tuple[dict[str, Any], str | None, str | None]],
    dry_run: bool,
    force: bool,
    cap: Decimal | None = None,
) -> list[dict[str, Any]]:
    """targets: (change, expected live value, value to write). Validates every change first, then writes them;
    when a write fails, the ones already written are put back before the error propagates."""
    from strategist.adapters.platforms.errors import PlatformError

    steps: list[dict[str, Any]] = []
    with _batch(uow, platforms) as connectors:
        for ch, expected, value in targets:
            if not ch.get("connection_id"):
                raise ValidationFailed.one("recommendation", "the campaign has no platform connection")
            connector = connectors(ch["connection_id"])
            try:
                if ch["action"] == "set_target":
                    # bid targets are not synced: the validate-only call reads the live target and checks the write
                    validation = _write(connector, ch, value, validate_only=True)
                    live = validation["before"]
                    capped = cap is not None and live is not None and value is not None
                    if capped and not dom.within_cap(Decimal(live), Decimal(value), cap):  # type: ignore[arg-type]
                        raise ValidationFailed.one(
                            "recommendation.changes",
                            f"{ch.get('campaign_name')}: {ch['field']} {live} -> {value} exceeds the ±{cap} % "
                            "cap per change",
                        )
                else:
                    live = _live_value(ch, _live(connector, ch["external_id"]))
                if expected is not None and not _same(ch, live, expected) and not force:
                    raise Conflict(
                        f"{ch.get('campaign_name')}: the platform value is {live}, not {expected} as when this was "
                        "decided; refresh the recommendation or pass force=true"
                    )
                if ch["action"] != "set_target":
                    validation = _write(connector, ch, value, validate_only=True)
            except PlatformError as exc:
                raise Conflict(f"{ch.get('campaign_name')}: the platform refused the change: {exc}") from exc
            steps.append({"change": ch, "platform_before": live, "write": value, "validation": validation})
        if dry_run:
            return steps
        done: list[dict[str, Any]] = []
        try:
            for step in steps:
                ch = step["change"]
                step["applied"] = _write(
                    connectors(ch["connection_id"]), ch, step["write"], validate_only=False
                )
                done.append(step)
        except PlatformError as exc:
            for step in reversed(done):  # put back what this apply already changed
                _write(
                    connectors(step["change"]["connection_id"]),
                    step["change"],
                    step["platform_before"],
                    validate_only=False,
                )
            raise Conflict(
                f"the platform refused a change ({exc}); {len(done)} earlier change(s) were put back"
            ) from exc
    return steps


@contextmanager
def _batch(uow: UnitOfWork, platforms: Platforms) -> Iterator[Any]:
    """One connector per connection for the whole apply."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        opened: dict[str, Any] = {}

        def get(connection_id: str) -> Any:
            if connection_id not in opened:
                opened[connection_id] = stack.enter_context(_connector(uow, connection_id, platforms))
            return opened[connection_id]

        yield get


def _sync_local(uow: UnitOfWork, steps: list[dict[str, Any]], *, undo: bool = False) -> None:
    """Mirror the written values on our campaign rows so reads agree before the next sync."""
    for step in steps:
        ch = step["change"]
        camp = uow.session.get(Campaign, uuid.UUID(ch["campaign_id"]))
        if camp is None:
            continue
        value = step["write"]
        if ch["action"] == "set_target":
            continue  # bid targets have no column here: they are read live from the platform
        if ch["action"] == "set_status":
            camp.status = value
        else:
            camp.budget_amount = Decimal(value)
        camp.updated_at = _now()


def _requests(steps: list[dict[str, Any]], key: str = "validation") -> list[dict[str, Any]]:
    return [
        {
            "campaign_id": s["change"]["campaign_id"],
            "platform": s["change"]["platform"],
            "action": s["change"]["action"],
            "platform_before": s["platform_before"],
            "after": s["write"],
            "request": s[key]["request"],
            "validated_by_platform": s["validation"]["sent"],
            "response": s[key]["response"],
        }
        for s in steps
        if key in s
    ]


# -- the use cases -------------------------------------------------------------------------------------------------
def apply(
    uow: UnitOfWork,
    principal: Principal,
    rec_id: uuid.UUID,
    *,
    dry_run: bool,
    force: bool,
    platforms: Platforms,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    actor = actor or principal.actor
    now = now or _now()
    rec = get_recommendation(uow, principal, rec_id, lock=not dry_run)
    if not rec.changes:
        raise ValidationFailed.one(
            "recommendation",
            f"a {rec.kind} recommendation is a manual change with no platform request to apply",
        )
    if rec.status == "pending_approval" and not dry_run:
        raise Conflict("this recommendation is awaiting approval by an owner or admin (POST .../approve)")
    if rec.status not in ("proposed", "pending_approval", "failed"):
        raise Conflict(f"the recommendation is {rec.status}; only a proposed one can be applied")
    guard = guardrails(uow, principal.tenant_id)
    problems = guard_problems(uow, rec, guard, now)
    reasons = [] if rec.approved_by else approval_reasons(rec, guard)
    targets = [(ch, ch["before"], ch["after"]) for ch in rec.changes]
    if dry_run:
        steps = _run(
            uow, rec, platforms, targets=targets, dry_run=True, force=force, cap=guard.max_change_pct
        )
        return Outcome(rec, True, "validated", _requests(steps), [m for _, m in problems], reasons)
    if problems:
        kind, message = problems[0]
        if kind == "cap":
            raise ValidationFailed.one("recommendation.changes", message)
        raise Conflict("; ".join(m for _, m in problems))
    if reasons:
        rec.status, rec.requested_by, rec.requested_at, rec.updated_at = "pending_approval", actor, now, now
        uow.audit(
            "recommendation.approval_requested",
            "optimization_recommendation",
            rec.id,
            after={"reasons": reasons, "changes": rec.changes, "requested_by": actor},
        )
        uow.emit(
            "recommendation.approval_requested",
            {"recommendation_id": rec.id, "client_id": rec.client_id, "reasons": reasons},
        )
        return Outcome(rec, False, "pending_approval", [], [], reasons)
    rec.requested_by, rec.requested_at = rec.requested_by or actor, rec.requested_at or now
    return _apply_now(uow, rec, platforms, force=force, actor=actor, now=now)


def _apply_now(
    uow: UnitOfWork,
    rec: OptimizationRecommendation,
    platforms: Platforms,
    *,
    force: bool,
    actor: str,
    now: dt.datetime,
) -> Outcome:
    targets = [(ch, ch["before"], ch["after"]) for ch in rec.changes]
    cap = guardrails(uow, rec.tenant_id).max_change_pct
    steps = _run(uow, rec, platforms, targets=targets, dry_run=False, force=force, cap=cap)
    _sync_local(uow, steps)
    applied = _requests(steps, "applied")
    rec.status, rec.applied_by, rec.applied_at, rec.updated_at = "applied", actor, now, now
    rec.result = jsonable({"applied": applied, "trigger_snapshot": rec.evidence, "forced": force})
    uow.audit(
        "recommendation.apply",
        "optimization_recommendation",
        rec.id,
        before={
            "platform": {
                s["change"]["campaign_id"]: {s["change"]["field"]: s["platform_before"]} for s in steps
            }
        },
        after={
            "platform": {s["change"]["campaign_id"]: {s["change"]["field"]: s["write"]} for s in steps},
            "requests": applied,
            "trigger_snapshot": rec.evidence,
            "kind": rec.kind,
            "requested_by": rec.requested_by,
            "approved_by": rec.approved_by,
        },
    )
    uow.emit(
        "recommendation.applied", {"recommendation_id": rec.id, "client_id": rec.client_id, "kind": rec.kind}
    )
    return Outcome(rec, False, "applied", applied)


def approve(
    uow: UnitOfWork,
    principal: Principal,
    rec_id: uuid.UUID,
    *,
    platforms: Platforms,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Outcome:
    """An owner/admin who did not ask for the change approves it, and it is applied at once (same guards)."""
    now = now or _now()
    rec = get_recommendation(uow, principal, rec_id, lock=True)
    why = dom.may_approve(principal.actor, rec.requested_by, ROLE_RANK[principal.role], ROLE_RANK[Role.ADMIN])
    if why:
        raise Forbidden(why)
    if rec.status != "pending_approval":
        raise Conflict(f"the recommendation is {rec.status}; only one awaiting approval can be approved")
    guard = guardrails(uow, principal.tenant_id)
    problems = guard_problems(uow, rec, guard, now)
    if problems:
        raise Conflict("; ".join(m for _, m in problems))
    rec.approved_by, rec.approved_at = principal.actor, now
    uow.audit(
        "recommendation.approve",
        "optimization_recommendation",
        rec.id,
        after={"approved_by": principal.actor, "requested_by": rec.requested_by, "note": note},
    )
    return _apply_now(uow, rec, platforms, force=False, actor=principal.actor, now=now)


def undo(
    uow: UnitOfWork,
    principal: Principal,
    rec_id: uuid.UUID,
    *,
    force: bool,
    platforms: Platforms,
    now: dt.datetime | None = None,
) -> Outcome:
    """Restore what the platform held before the apply. Not subject to the cooldown or approvals: it returns to a
    state the platform already had."""
    now = now or _now()
    rec = get_recommendation(uow, principal, rec_id, lock=True)
    if rec.status != "applied":
        raise Conflict(f"the recommendation is {rec.status}; only an applied one can be undone")
    applied = {a["campaign_id"] + a["action"]: a for a in rec.result.get("applied", [])}
    targets = []
    for ch in reversed(rec.changes):
        a = applied.get(ch["campaign_id"] + ch["action"])
        if a is None:
            raise Conflict("the apply record of this recommendation is incomplete; cannot undo")
        targets.append((ch, a["after"], a["platform_before"]))
    steps = _run(uow, rec, platforms, targets=targets, dry_run=False, force=force)
    _sync_local(uow, steps, undo=True)
    restored = _requests(steps, "applied")
    rec.status, rec.undone_by, rec.undone_at, rec.updated_at = "undone", principal.actor, now, now
    rec.result = jsonable({**rec.result, "undone": restored, "undo_forced": force})
    uow.audit(
        "recommendation.undo",
        "optimization_recommendation",
        rec.id,
        before={
            "platform": {
                s["change"]["campaign_id"]: {s["change"]["field"]: s["platform_before"]} for s in steps
            }
        },
        after={
            "platform": {s["change"]["campaign_id"]: {s["change"]["field"]: s["write"]} for s in steps},
            "requests": restored,
        },
    )
    uow.emit("recommendation.undone", {"recommendation_id": rec.id, "client_id": rec.client_id})
    return Outcome(rec, False, "undone", restored)
