"""Metric sync: the hourly fan-out and the per-connection worker.

The worker never holds a database transaction open while it talks to a platform: it reads the connection and
its credentials, fetches, then writes campaigns and metrics in one transaction. Writes are upserts keyed by
campaign, day and breakdown, so a redelivered message, an overlapping run or a restated window can only
replace rows, never duplicate or drop them."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
from strategist.adapters.db.models import Campaign, PlatformConnection, SyncRun
from strategist.adapters.db.uow import UnitOfWork
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    PermanentPlatformError,
    PlatformError,
)
from strategist.domain.metrics import DailyMetric, PlatformCampaign
from strategist.services import sync_plan
from strategist.services.connections import cipher_context, mark_broken
from strategist.services.ports import ConnectorFactory, CredentialCipher

log = logging.getLogger(__name__)
UowFactory = Callable[[], UnitOfWork]


@dataclass
class SyncResult:
    connection_id: str
    status: str
    rows: int = 0
    campaigns: int = 0
    window: tuple[str, str] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class RetryLater(Exception):
    """The platform is temporarily unavailable: let the queue redeliver (and dead-letter after 5 tries)."""


def sync_connection(
    body: dict[str, Any],
    *,
    uow_factory: UowFactory,
    cipher: CredentialCipher,
    connectors: ConnectorFactory,
    message_id: str | None = None,
    now: dt.datetime | None = None,
) -> SyncResult:
    tenant_id = uuid.UUID(body["tenant_id"])
    connection_id = uuid.UUID(body["connection_id"])
    kind = body.get("kind", "scheduled")
    started = now or dt.datetime.now(dt.UTC)

    # 1. read what we need, record the run; commit before touching the network
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        conn = uow.session.get(PlatformConnection, connection_id)
        if conn is None or conn.deleted_at is not None:
            return SyncResult(str(connection_id), "skipped", error="connection no longer exists")
        if conn.status != "active":
            return SyncResult(str(connection_id), "skipped", error=f"connection is {conn.status}")
        if "window_start" in body:
            window = sync_plan.Window(
                dt.date.fromisoformat(body["window_start"]), dt.date.fromisoformat(body["window_end"])
            )
        else:
            window = sync_plan.scheduled_window(
                yesterday=sync_plan.yesterday_in(conn.time_zone, started),
                restatement_days=conn.restatement_days,
                data_through=conn.data_through,
            )
        try:
            credentials = cipher.decrypt(conn.credentials, context=cipher_context(conn))
        except Exception as exc:  # a key that no longer exists or a tampered blob: a person must reconnect
            mark_broken(
                uow, conn, f"stored credentials cannot be decrypted ({type(exc).__name__}); reconnect"
            )
            return SyncResult(str(connection_id), "broken", error="credentials cannot be decrypted")
        platform, base_url, client_id = conn.platform, conn.base_url, conn.client_id
        context = cipher_context(conn)
        run = SyncRun(
            tenant_id=tenant_id,
            connection_id=connection_id,
            kind=kind,
            window_start=window.start,
            window_end=window.end,
            status="running",
            message_id=message_id,
        )
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id

    def persist_refreshed(new_credentials: Any) -> None:
        """A refreshed token is saved at once, in its own transaction: losing it would break the connection."""
        with uow_factory() as tx:
            tx.set_tenant(tenant_id)
            row = tx.session.get(PlatformConnection, connection_id)
            if row is not None:
                row.credentials = cipher.encrypt(new_credentials.to_storage(), context=context)

    # 2. talk to the platform
    try:
        with connectors(platform, credentials, base_url=base_url, on_refresh=persist_refreshed) as connector:
            campaigns = connector.list_campaigns()
            metrics = connector.fetch_daily_metrics(window.start, window.end)
    except ConnectionBrokenError as exc:
        _finish_failed(
            uow_factory, tenant_id, connection_id, run_id, f"broken: {exc.reason}", broken=exc.reason
        )
        return SyncResult(str(connection_id), "broken", error=exc.reason)
    except PermanentPlatformError as exc:
        _finish_failed(uow_factory, tenant_id, connection_id, run_id, str(exc))
        return SyncResult(str(connection_id), "failed", error=str(exc))
    except PlatformError as exc:
        _finish_failed(uow_factory, tenant_id, connection_id, run_id, f"transient: {exc}")
        raise RetryLater(str(exc)) from exc

    # 3. write everything in one transaction
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        conn = uow.session.scalar(
            select(PlatformConnection).where(PlatformConnection.id == connection_id).with_for_update()
        )
        assert conn is not None
        ids = _upsert_campaigns(uow, conn, campaigns, metrics, started)
        rows = upsert_metrics(uow.session, tenant_id, _metric_rows(metrics, ids))
        latest = max((m.date for m in metrics), default=None)
        conn.data_as_of = started
        if latest is not None and (conn.data_through is None or latest > conn.data_through):
            conn.data_through = latest
        conn.last_sync_at, conn.last_sync_status, conn.last_error = dt.datetime.now(dt.UTC), "ok", None
        if kind == "backfill":
            conn.backfill = _advance_backfill(conn.backfill, window)
        run = uow.session.get(SyncRun, run_id)
        assert run is not None
        run.status, run.rows_upserted, run.campaigns_seen = "ok", rows, len(ids)
        run.finished_at = dt.datetime.now(dt.UTC)
        uow.emit(
            "metrics.synced",
            {
                "connection_id": connection_id,
                "client_id": client_id,
                "platform": platform,
                "window_start": window.start,
                "window_end": window.end,
                "rows": rows,
            },
        )
    return SyncResult(
        str(connection_id), "ok", rows, len(ids), (window.start.isoformat(), window.end.isoformat())
    )


def _finish_failed(
    uow_factory: UowFactory,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    run_id: uuid.UUID,
    error: str,
    *,
    broken: str | None = None,
) -> None:
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        conn = uow.session.get(PlatformConnection, connection_id)
        run = uow.session.get(SyncRun, run_id)
        if run is not None:
            run.status, run.error, run.finished_at = "failed", error[:2000], dt.datetime.now(dt.UTC)
        if conn is not None:
            conn.last_sync_at, conn.last_sync_status, conn.last_error = (
                dt.datetime.now(dt.UTC),
                "failed",
                error[:2000],
            )
            if broken is not None:
                mark_broken(uow, conn, broken)
            # issue 8, live updates: open pages show the failed sync
            uow.emit(
                "sync.failed",
                {
                    "connection_id": conn.id,
                    "client_id": conn.client_id,
                    "platform": conn.platform,
                    "run_id": run_id,
                },
            )


def _upsert_campaigns(
    uow: UnitOfWork,
    conn: PlatformConnection,
    campaigns: list[PlatformCampaign],
    metrics: list[DailyMetric],
    now: dt.datetime,
) -> dict[str, uuid.UUID]:
    values: dict[str, dict[str, Any]] = {}
    for c in campaigns:
        values[c.id] = {
            "name": c.name[:300],
            "status": c.status.value,
            "raw_status": (c.raw_status or "")[:50],
            "objective": (c.objective or None) and c.objective[:100],
            "budget_amount": c.budget.amount if c.budget else None,
            "budget_type": c.budget.budget_type.value if c.budget else None,
            "currency": (c.budget.currency if c.budget else None) or conn.currency or "USD",
        }
    for m in metrics:  # campaigns that spent in the window but are no longer listed (removed) still count
        values.setdefault(
            m.campaign_id,
            {
                "name": (m.campaign_name or m.campaign_id)[:300],
                "status": "removed",
                "raw_status": "not listed",
                "objective": None,
                "budget_amount": None,
                "budget_type": None,
                "currency": m.currency,
            },
        )
    if not values:
        return {}
    rows = [
        {
            "tenant_id": conn.tenant_id,
            "client_id": conn.client_id,
            "connection_id": conn.id,
            "platform": conn.platform,
            "external_id": ext,
            "time_zone": conn.time_zone,
            "last_synced_at": now,
            **v,
        }
        for ext, v in values.items()
    ]
    stmt = insert(Campaign).values(rows)
    listed = {c.id for c in campaigns}
    update_cols = ["name", "connection_id", "time_zone", "last_synced_at"]
    if listed:
        update_cols += ["status", "raw_status", "objective", "budget_amount", "budget_type", "currency"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "client_id", "platform", "external_id"],
        set_={col: getattr(stmt.excluded, col) for col in update_cols} | {"updated_at": now},
    ).returning(Campaign.external_id, Campaign.id)
    return dict(uow.session.execute(stmt).all())


def _metric_rows(metrics: list[DailyMetric], ids: dict[str, uuid.UUID]) -> list[MetricRow]:
    return [
        MetricRow(
            campaign_id=ids[m.campaign_id],
            date=m.date,
            currency=m.currency,
            cost=m.cost,
            impressions=m.impressions,
            clicks=m.clicks,
            conversions=m.conversions,
            conversion_value=m.conversion_value,
            time_zone=m.time_zone,
            attribution_window=m.attribution_window,
            source=m.source[:200],
            breakdown=m.breakdown[:100],
            video_views=m.video_views,
            reach=m.reach,
            search_impression_share=m.extra.get("search_impression_share"),
            search_rank_lost_impression_share=m.extra.get("search_rank_lost_impression_share"),
            search_budget_lost_impression_share=m.extra.get("search_budget_lost_impression_share"),
        )
        for m in metrics
    ]


def _advance_backfill(state: dict[str, Any], window: sync_plan.Window) -> dict[str, Any]:
    """Counted by window, so a redelivered chunk is not counted twice."""
    done = set(state.get("done", []))
    done.add(window.start.isoformat())
    loaded_from = state.get("loaded_from")
    if loaded_from is None or window.start.isoformat() < loaded_from:
        loaded_from = window.start.isoformat()
    total = int(state.get("chunks_total", len(done)))
    return {
        **state,
        "done": sorted(done),
        "chunks_done": len(done),
        "loaded_from": loaded_from,
        "complete": len(done) >= total,
    }
