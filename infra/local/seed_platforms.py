"""Connect the demo clients to the simulated ad platforms and import their e-mail results.

Runs on every start: moto's KMS keys live only as long as the moto server, so the demo connections'
credentials are encrypted anew each time (a connection someone added by hand locally cannot be decrypted after
a restart; the sync marks it broken with that reason, and reconnecting repairs it)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from infra.local.demo_platforms import PLATFORMS, demo_connections, email_rows
from infra.local.seed import DEMO_TENANTS, client_id, tenant_id
from strategist import bootstrap
from strategist.adapters.db.metrics_store import MetricRow, upsert_metrics
from strategist.adapters.db.models import Campaign, PlatformConnection
from strategist.services import sync_plan
from strategist.services.connections import cipher_context


def seed_connections(owner_url: str, *, today: dt.date | None = None) -> dict[str, int]:
    cipher, queue = bootstrap.credential_cipher(), bootstrap.sync_queue()
    engine = create_engine(owner_url)
    messages: list[dict[str, Any]] = []
    created = refreshed = 0
    with Session(engine) as s, s.begin():
        for demo in demo_connections():
            tid = tenant_id(demo["tenant_slug"])
            s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
            spec = demo["spec"]
            conn = s.scalar(
                select(PlatformConnection).where(
                    PlatformConnection.tenant_id == tid,
                    PlatformConnection.platform == demo["platform"],
                    PlatformConnection.account_id == demo["account_id"],
                    PlatformConnection.deleted_at.is_(None),
                )
            )
            if conn is None:
                conn = PlatformConnection(
                    id=uuid.uuid4(),
                    tenant_id=tid,
                    client_id=demo["client_id"],
                    platform=demo["platform"],
                    account_id=demo["account_id"],
                    name=f"{spec.name} (demo)",
                    currency=spec.currency,
                    time_zone=spec.time_zone,
                    status="active",
                    credentials={},
                )
                chunks = sync_plan.backfill_chunks(
                    sync_plan.yesterday_in(spec.time_zone), conn.backfill_days or 730
                )
                conn.backfill = {
                    "start": chunks[-1].start.isoformat(),
                    "end": chunks[0].end.isoformat(),
                    "chunks_total": len(chunks),
                    "chunks_done": 0,
                    "done": [],
                    "complete": False,
                    "loaded_from": None,
                    "queued_at": dt.datetime.now(dt.UTC).isoformat(),
                }
                s.add(conn)
                s.flush()
                messages += [sync_plan.message(tid, conn.id, "backfill", w) for w in chunks]
                created += 1
            else:
                refreshed += 1
                if conn.status == "broken" and (conn.broken_reason or "").startswith("stored credentials"):
                    conn.status, conn.broken_reason, conn.broken_at = "active", None, None
            conn.credentials = cipher.encrypt(demo["credentials"], context=cipher_context(conn))
        email = _seed_email(s, today or dt.date.today())
    engine.dispose()
    if messages:
        queue.send(messages)
    return {
        "created": created,
        "refreshed": refreshed,
        "backfill_messages": len(messages),
        "email_rows": email,
    }


def _seed_email(s: Session, today: dt.date) -> int:
    written = 0
    for tenant in DEMO_TENANTS:
        tid = tenant_id(tenant.slug)
        s.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tid)})
        for client in tenant.clients:
            if "email" not in PLATFORMS[client.name]:
                continue
            cid = client_id(tenant.slug, client.name)
            campaign = s.scalar(
                select(Campaign).where(Campaign.client_id == cid, Campaign.platform == "email")
            )
            if campaign is not None:
                continue
            campaign = Campaign(
                tenant_id=tid,
                client_id=cid,
                platform="email",
                external_id="newsletter",
                name="Newsletter programme (demo)",
                status="active",
                objective="retention",
                currency=client.currency,
                time_zone=client.timezone,
            )
            s.add(campaign)
            s.flush()
            rows = [
                MetricRow(
                    campaign_id=campaign.id,
                    date=r["date"],
                    currency=client.currency,
                    cost=r["cost"],
                    impressions=r["impressions"],
                    clicks=r["clicks"],
                    conversions=r["conversions"],
                    conversion_value=r["conversion_value"],
                    time_zone=client.timezone,
                    attribution_window="imported",
                    source="ESP daily export (demo data)",
                )
                for r in email_rows(client, today)
            ]
            written += upsert_metrics(s, tid, rows)
    return written
