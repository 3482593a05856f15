"""Reading optimizations and recommendations back (viewer-readable, narrowed to the caller's clients)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from strategist.adapters.db.models import CampaignOptimization, Client, OptimizationRecommendation
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal
from strategist.http.schemas.optimization import (
    OptimizationListQuery,
    OptimizationOut,
    RecommendationListQuery,
    RecommendationOut,
)
from strategist.services.clients import get_client_owned, visible_to
from strategist.services.optimization.apply import approval_reasons
from strategist.services.optimization.recommend import guardrails


def recommendation_out(rec: OptimizationRecommendation, reasons: list[str]) -> RecommendationOut:
    return RecommendationOut.model_validate(
        {
            **{k: getattr(rec, k) for k in RecommendationOut.model_fields if hasattr(rec, k)},
            "requires_approval": [] if rec.approved_by else reasons,
        }
    )


def _recs_out(
    uow: UnitOfWork, principal: Principal, recs: list[OptimizationRecommendation]
) -> list[RecommendationOut]:
    guard = guardrails(uow, principal.tenant_id)
    return [recommendation_out(r, approval_reasons(r, guard)) for r in recs]


def optimization_out(uow: UnitOfWork, principal: Principal, opt: CampaignOptimization) -> OptimizationOut:
    recs = list(
        uow.session.scalars(
            select(OptimizationRecommendation)
            .where(OptimizationRecommendation.optimization_id == opt.id)
            .order_by(OptimizationRecommendation.created_at, OptimizationRecommendation.id)
        )
    )
    order = {"high": 0, "medium": 1, "low": 2}
    recs.sort(key=lambda r: (order.get(r.priority, 3), -float(r.confidence)))
    s = opt.summary or {}
    return OptimizationOut(
        id=opt.id,
        client_id=opt.client_id,
        campaign_id=opt.campaign_id,
        optimization_type=opt.optimization_type,  # type: ignore[arg-type]
        implementation_priority=opt.implementation_priority,  # type: ignore[arg-type]
        source=opt.source,
        source_id=opt.source_id,
        window={"start": opt.window_start, "end": opt.window_end},
        recommendations=_recs_out(uow, principal, recs),
        missing_data=s.get("missing_data", []),
        held_back=s.get("held_back", []),
        guardrails=s.get("guardrails", {}),
        methodology=s.get("methodology", []),
        created_by=opt.created_by,
        created_at=opt.created_at,
    )


def get_optimization(
    uow: UnitOfWork, principal: Principal, optimization_id: uuid.UUID
) -> CampaignOptimization:
    return get_client_owned(uow, principal, CampaignOptimization, optimization_id, "optimization")


def list_optimizations(
    uow: UnitOfWork, principal: Principal, query: OptimizationListQuery
) -> tuple[list[OptimizationOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = (
        select(CampaignOptimization)
        .join(Client, Client.id == CampaignOptimization.client_id)
        .where(Client.deleted_at.is_(None))
    )
    stmt = visible_to(stmt, CampaignOptimization.client_id, principal, query.client_id)
    if query.campaign_id is not None:
        stmt = stmt.where(CampaignOptimization.campaign_id == query.campaign_id)
    rows, nxt = keyset_page(
        uow.session, stmt, CampaignOptimization, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [optimization_out(uow, principal, r) for r in rows], nxt


def list_recommendations(
    uow: UnitOfWork, principal: Principal, query: RecommendationListQuery
) -> tuple[list[RecommendationOut], str | None]:
    principal.require_tenant(query.tenant_id)
    stmt = (
        select(OptimizationRecommendation)
        .join(Client, Client.id == OptimizationRecommendation.client_id)
        .where(Client.deleted_at.is_(None))
    )
    stmt = visible_to(stmt, OptimizationRecommendation.client_id, principal, query.client_id)
    if query.campaign_id is not None:
        stmt = stmt.where(OptimizationRecommendation.campaign_id == query.campaign_id)
    if query.optimization_id is not None:
        stmt = stmt.where(OptimizationRecommendation.optimization_id == query.optimization_id)
    if query.status is not None:
        stmt = stmt.where(OptimizationRecommendation.status == query.status.value)
    rows, nxt = keyset_page(
        uow.session,
        stmt,
        OptimizationRecommendation,
        limit=query.limit,
        cursor=query.cursor,
        newest_first=True,
    )
    return _recs_out(uow, principal, rows), nxt
