"""The daily optimize job: for every tenant with active campaigns, optimize each active campaign (performance
checks plus budget shifts, superseding the previous day's proposals), apply the kinds the tenant chose to
auto-apply (settings.auto_apply) and evaluate the automation rules; every automatic change goes through the same
guarded apply as a person's. Each campaign runs in its own transaction: one failing campaign does not stop the
others."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text

from strategist.adapters.db.models import Campaign, Client, OptimizationRecommendation, Tenant
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal, Role
from strategist.http.schemas.optimization import OptimizationType, OptimizeRequest, Priority
from strategist.services.optimization import recommend, rules
from strategist.services.optimization.apply import Platforms

log = logging.getLogger(__name__)
UowFactory = Callable[[], UnitOfWork]
ACTOR = "system:job_optimize"


def system_principal(tenant_id: uuid.UUID) -> Principal:
    return Principal(tenant_id=tenant_id, user_id=None, role=Role.OWNER, client_ids=None, auth_type="system")


def tenants(uow_factory: UowFactory) -> list[uuid.UUID]:
    with uow_factory() as uow:
        return [r[0] for r in uow.session.execute(text("SELECT tenant_id FROM system_optimizable_tenants()"))]


def run(
    uow_factory: UowFactory,
    platforms: Platforms,
    *,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
    tenant_ids: list[uuid.UUID] | None = None,
) -> dict[str, Any]:
    """``now`` is the job's clock for cooldowns and the recorded apply times, ``today`` the campaigns' day
    (both default to the real clock; the simulation bench passes the simulator's)."""
    now = now or dt.datetime.now(dt.UTC)
    totals: dict[str, Any] = {"tenants": 0, "campaigns": 0, "recommendations": 0, "errors": 0, "applied": 0}
    totals["rules"] = {}
    for tenant_id in tenant_ids if tenant_ids is not None else tenants(uow_factory):
        totals["tenants"] += 1
        principal = system_principal(tenant_id)
        with uow_factory() as uow:
            uow.set_tenant(tenant_id)
            tenant = uow.session.get(Tenant, tenant_id)
            auto = set((tenant.settings or {}).get("auto_apply") or []) if tenant else set()
            ids = list(
                uow.session.scalars(
                    select(Campaign.id)
                    .join(Client, Client.id == Campaign.client_id)
                    .where(Client.deleted_at.is_(None), Campaign.status == "active")
                    .order_by(Campaign.id)
                )
            )
        for campaign_id in ids:
            try:
                with uow_factory() as uow:
                    uow.set_tenant(tenant_id)
                    opt = recommend.optimize_campaign(
                        uow,
                        principal,
                        OptimizeRequest(
                            campaign_id=campaign_id,
                            optimization_type=OptimizationType.PERFORMANCE,
                            implementation_priority=Priority.MEDIUM,
                        ),
                        actor=ACTOR,
                        source="job",
                        today=today,
                        include_shift=True,
                    )
                    recs = list(
                        uow.session.scalars(
                            select(OptimizationRecommendation).where(
                                OptimizationRecommendation.optimization_id == opt.id
                            )
                        )
                    )
                    totals["campaigns"] += 1
                    totals["recommendations"] += len(recs)
                    for rec in recs:
                        if rec.kind in auto and rec.changes and rec.status == "proposed":
                            outcome = rules.apply_guarded(uow, principal, platforms, ACTOR, rec, now)
                            totals[outcome] = totals.get(outcome, 0) + 1
            except Exception:
                totals["errors"] += 1
                log.exception(
                    "optimize failed", extra={"tenant_id": str(tenant_id), "campaign_id": str(campaign_id)}
                )
        try:
            with uow_factory() as uow:
                uow.set_tenant(tenant_id)
                counts = rules.evaluate(
                    uow,
                    principal,
                    apply_live=lambda rec, uow=uow, principal=principal: rules.apply_guarded(
                        uow, principal, platforms, ACTOR, rec, now
                    ),
                    now=now,
                    today=today,
                    actor=ACTOR,
                )
                for k, v in counts.items():
                    totals["rules"][k] = totals["rules"].get(k, 0) + v
        except Exception:
            totals["errors"] += 1
            log.exception("rule evaluation failed", extra={"tenant_id": str(tenant_id)})
    return totals
