"""Uploads and analyses. Pure analysis in ``analyse``; the rest reads and writes the tables."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select, text

from strategist.adapters.db.models import Client, CompetitorAnalysis, CompetitorData
from strategist.adapters.db.paging import keyset_page
from strategist.adapters.db.uow import UnitOfWork, jsonable
from strategist.domain.auth import Principal, Role
from strategist.domain.errors import Conflict, NotFound, ValidationFailed
from strategist.services.clients import visible_to
from strategist.services.competitors.parsing import (
    ParseError,
    neutralise,
    parse_ad_library,
    parse_auction_insights,
)

PLATFORM_LIMITS = [
    "Google Ads auction insights are not available through the Google Ads API: upload the export from the Google "
    "Ads UI (Campaigns > Auction insights > Download). Google hides impression shares below 10 % ('< 10%').",
    "Meta's Ad Library API shows spend and impressions only for ads about social issues, elections or politics "
    "(and reach for ads delivered in the EU); for other ads it shows the page, dates, platforms and creative only.",
    "Impression share is the share of the impressions each advertiser was eligible for; the shares of the "
    "advertisers in one auction do not add up to 100 %. share_of_voice normalises them within each period.",
]


def _client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID, field: str) -> Client:
    principal.require_client(client_id)
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        raise NotFound("client not found")
    return client


def _upload_out(row: CompetitorData) -> dict[str, Any]:
    return {
        "id": row.id,
        "client_id": row.client_id,
        "kind": row.kind,
        "platform": row.platform,
        "filename": row.filename,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "row_count": row.row_count,
        "notes": row.notes,
        "created_at": row.created_at,
    }


def _label(filename: str | None) -> str | None:
    """The uploaded file's name is a label, never a path: directories (either slash) and leading dots are
    dropped, and a formula-looking name is neutralised for the CSV export."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lstrip(". ").strip()
    return neutralise(name)[:255] or None


def upload(
    uow: UnitOfWork,
    principal: Principal,
    *,
    client_id: uuid.UUID,
    kind: str,
    raw: bytes | None = None,
    records: list[dict[str, Any]] | None = None,
    filename: str | None = None,
) -> dict[str, Any]:
    principal.require_role(Role.ANALYST)
    client = _client(uow, principal, client_id, "client_id")
    notes: list[str] = []
    start = end = None
    try:
        if kind == "auction_insights":
            assert raw is not None
            parsed = parse_auction_insights(raw)
            rows, start, end, notes, platform = (
                parsed.rows,
                parsed.period_start,
                parsed.period_end,
                parsed.notes,
                "google_ads",
            )
            digest = hashlib.sha256(raw).hexdigest()
        elif kind == "ad_library":
            rows, platform = parse_ad_library(records or []), "meta_ads"
            digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        else:
            rows = [
                {**r, "line": i, "competitor": neutralise(str(r.get("competitor", "")))}
                for i, r in enumerate(records or [])
            ]
            platform = "manual"
            digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
    except ParseError as exc:
        raise ValidationFailed.one("body", str(exc)) from exc
    if not rows:
        raise ValidationFailed.one("body.records", "no records")
    dup = uow.session.scalar(
        select(CompetitorData.id).where(
            CompetitorData.client_id == client.id,
            CompetitorData.kind == kind,
            CompetitorData.sha256 == digest,
        )
    )
    if dup is not None:
        raise Conflict(f"this file was already uploaded for the client (upload {dup})")
    row = CompetitorData(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        kind=kind,
        filename=_label(filename),
        platform=platform,
        period_start=start,
        period_end=end,
        rows=jsonable(rows),
        row_count=len(rows),
        notes=notes,
        sha256=digest,
        created_by=principal.actor,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    uow.audit("competitors.upload", "competitor_data", row.id, after={"kind": kind, "rows": len(rows)})
    return _upload_out(row)


def _value(cell: Any) -> float | None:
    return cell.get("value") if isinstance(cell, dict) else None


def analyse(uploads: list[CompetitorData], jump_pts: float) -> dict[str, Any]:
    """Competitors by overlap and outranking over time, share of voice per period, moves; each with evidence."""
    # (domain, campaign) -> period -> row: an export segmented by campaign holds one auction set per campaign,
    # and shares of different auction sets are never mixed (campaign None = the export's whole scope).
    series: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = defaultdict(dict)
    sources = []
    ad_rows: list[tuple[CompetitorData, dict[str, Any]]] = []
    observations = []
    for up in uploads:
        sources.append(_upload_out(up))
        for r in up.rows:
            if up.kind == "auction_insights":
                period = r.get("period") or (up.period_start.isoformat() if up.period_start else "unknown")
                key = (r["domain"], r.get("campaign"))
                series[key][period] = {**r, "evidence": {"upload_id": str(up.id), "line": r["line"]}}
            elif up.kind == "ad_library":
                ad_rows.append((up, r))
            else:
                observations.append({**r, "evidence": {"upload_id": str(up.id), "line": r["line"]}})
    periods = sorted({p for s in series.values() for p in s})
    scope_periods: dict[str | None, list[str]] = defaultdict(list)
    for (_, campaign), by_period in series.items():
        scope_periods[campaign] = sorted(set(scope_periods[campaign]) | set(by_period))
    competitors = []
    for (domain, campaign), by_period in sorted(series.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        points = [
            {
                "period": p,
                **{
                    k: by_period[p].get(k)
                    for k in ("impression_share", "overlap_rate", "outranking_share", "position_above_rate")
                },
                "evidence": by_period[p]["evidence"],
            }
            for p in sorted(by_period)
        ]
        last = points[-1]
        competitors.append(
            {
                "domain": domain,
                "campaign": campaign,
                "is_you": domain.lower() == "you",
                "periods": len(points),
                "latest": {
                    k: last[k] for k in ("period", "impression_share", "overlap_rate", "outranking_share")
                },
                "series": points,
            }
        )
    competitors.sort(key=lambda c: (c["is_you"], -(_value(c["latest"]["overlap_rate"]) or 0), c["domain"]))
    sov = []
    for campaign, its_periods in sorted(scope_periods.items(), key=lambda kv: kv[0] or ""):
        for p in its_periods:
            shares = {
                d: _value(s[p].get("impression_share"))
                for (d, c), s in series.items()
                if c == campaign and p in s
            }
            known = {d: v for d, v in shares.items() if v is not None}
            total = sum(known.values())
            sov.append(
                {
                    "period": p,
                    "campaign": campaign,
                    "shares": [
                        {
                            "domain": d,
                            "impression_share": v,
                            "share_of_voice": round(v / total, 6) if total else None,
                            "evidence": series[(d, campaign)][p]["evidence"],
                        }
                        for d, v in sorted(known.items(), key=lambda kv: (-kv[1], kv[0]))
                    ],
                    "below_threshold": sorted(d for d, v in shares.items() if v is None),
                }
            )
    moves = []
    for (domain, campaign), by_period in series.items():
        seen = sorted(by_period)
        scope = scope_periods[campaign]
        where = {"domain": domain, "campaign": campaign}
        if seen[0] != scope[0] and domain.lower() != "you":
            moves.append(
                {
                    "type": "new_entrant",
                    **where,
                    "period": seen[0],
                    "detail": f"{domain} first appears in the auction in the period starting {seen[0]}",
                    "evidence": [by_period[seen[0]]["evidence"]],
                }
            )
        if seen[-1] != scope[-1] and domain.lower() != "you":
            moves.append(
                {
                    "type": "exit",
                    **where,
                    "period": seen[-1],
                    "detail": f"{domain} is absent after the period starting {seen[-1]}",
                    "evidence": [by_period[seen[-1]]["evidence"]],
                }
            )
        for a, b in itertools.pairwise(seen):
            va, vb = (
                _value(by_period[a].get("impression_share")),
                _value(by_period[b].get("impression_share")),
            )
            if va is None or vb is None:
                continue
            change = round((vb - va) * 100, 2)
            if abs(change) >= jump_pts:
                moves.append(
                    {
                        "type": "impression_share_jump" if change > 0 else "impression_share_drop",
                        **where,
                        "period": b,
                        "from": va,
                        "to": vb,
                        "change_pts": change,
                        "evidence": [by_period[a]["evidence"], by_period[b]["evidence"]],
                    }
                )
    moves.sort(key=lambda m: (m["period"], m["type"], m["domain"], m["campaign"] or ""))
    pages: dict[str, dict[str, Any]] = {}
    for up, r in ad_rows:
        p = pages.setdefault(
            r["page_name"],
            {"page": r["page_name"], "ads": 0, "first_seen": None, "last_start": None, "platforms": set(),
             "spend_published": 0, "spend_lower": 0, "spend_upper": 0, "evidence": []},
        )  # fmt: skip
        p["ads"] += 1
        if r["start"]:
            p["first_seen"] = min(filter(None, [p["first_seen"], r["start"]]))
            p["last_start"] = max(filter(None, [p["last_start"], r["start"]]))
        p["platforms"].update(r["platforms"])
        if r["spend"] and r["spend"]["lower"] is not None:
            p["spend_published"] += 1
            p["spend_lower"] += r["spend"]["lower"]
            p["spend_upper"] += r["spend"]["upper"] or r["spend"]["lower"]
        p["evidence"].append({"upload_id": str(up.id), "line": r["line"], "ad_id": r["id"]})
    ad_library = [
        {**p, "platforms": sorted(p["platforms"])}
        for p in sorted(pages.values(), key=lambda p: (-p["ads"], p["page"]))
    ]
    return {
        "platform_limits": PLATFORM_LIMITS,
        "sources": sources,
        "periods": periods,
        "competitors": competitors,
        "share_of_voice": sov,
        "moves": moves,
        "ad_library": ad_library,
        "observations": observations,
        "method": (
            f"Moves: an impression share change of at least {jump_pts:g} points between consecutive periods of "
            "one domain; a domain absent from the first period is a new entrant, absent from the last an exit. "
            "'< 10%' values are kept as below 10 % and left out of changes and of share of voice."
        ),
    }


_OWN_SHARE_SQL = text(
    "SELECT date_trunc('week', m.date)::date AS week, count(*), count(DISTINCT m.campaign_id), min(m.date), "
    "max(m.date), sum(m.impressions), sum(m.impressions / m.search_impression_share), "
    "sum(m.impressions / m.search_impression_share * m.search_rank_lost_impression_share), "
    "sum(m.impressions / m.search_impression_share * m.search_budget_lost_impression_share) "
    "FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE c.client_id = :client AND m.breakdown = '' AND m.search_impression_share > 0 "
    "AND m.impressions > 0 AND m.date >= :since GROUP BY 1 ORDER BY 1"
)
OWN_SHARE_WEEKS = 13


def own_impression_share(uow: UnitOfWork, client_id: uuid.UUID, today: dt.date) -> dict[str, Any]:
    """The client's own search impression share per week (Monday), from synced Google Ads Search rows.

    Shares do not average: each day's eligible impressions are impressions / share, and a week's share is its
    impressions over its eligible impressions (the lost shares likewise weighted by eligible impressions). Days
    Google reported as "< 10%" (0.0999) count as 9.99 %, which overstates the eligible impressions' share slightly."""
    since = today - dt.timedelta(weeks=OWN_SHARE_WEEKS)
    weeks = []
    for week, rows, camps, first, last, imps, eligible, rank, budget in uow.session.execute(
        _OWN_SHARE_SQL, {"client": client_id, "since": since}
    ):
        weeks.append(
            {
                "week": week,
                "impression_share": round(float(imps / eligible), 4),
                "rank_lost_impression_share": round(float(rank / eligible), 4) if rank is not None else None,
                "budget_lost_impression_share": round(float(budget / eligible), 4)
                if budget is not None
                else None,
                "evidence": {
                    "table": "campaign_metrics",
                    "campaigns": camps,
                    "rows": rows,
                    "from": first,
                    "to": last,
                    "impressions": int(imps),
                },
            }
        )
    return {
        "source": "Google Ads search impression share, synced daily per Search campaign",
        "weeks": weeks,
        "note": None
        if weeks
        else "No synced search impression share for this client in the last 13 weeks: connect Google Ads (only "
        "Search campaigns report it).",
    }


def create_analysis(uow: UnitOfWork, principal: Principal, body: Any) -> dict[str, Any]:
    principal.require_role(Role.ANALYST)
    client = _client(uow, principal, body.client_id, "client_id")
    stmt = select(CompetitorData).where(CompetitorData.client_id == client.id)
    if body.upload_ids:
        stmt = stmt.where(CompetitorData.id.in_(body.upload_ids))
    uploads = list(uow.session.scalars(stmt.order_by(CompetitorData.period_start, CompetitorData.created_at)))
    if body.upload_ids:
        missing = sorted(str(u) for u in set(body.upload_ids) - {u.id for u in uploads})
        if missing:
            raise ValidationFailed.one("body.upload_ids", f"not uploads of this client: {', '.join(missing)}")
    own = own_impression_share(uow, client.id, dt.datetime.now(dt.UTC).date())
    if not uploads and not own["weeks"]:
        raise ValidationFailed.one(
            "body.upload_ids",
            "the client has no competitor data and no synced search impression share: upload an auction "
            "insights export, Ad Library records or observations to /api/v1/competitor-analysis/uploads first",
        )
    result = jsonable({**analyse(uploads, body.jump_threshold_pts), "own_impression_share": own})
    row = CompetitorAnalysis(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        client_id=client.id,
        request=jsonable(body.model_dump(mode="json", exclude={"tenant_id"})),
        result=result,
        created_by=principal.actor,
    )
    uow.session.add(row)
    uow.session.flush()
    uow.session.refresh(row)
    uow.audit("competitors.analyse", "competitor_analysis", row.id, after={"uploads": len(uploads)})
    return analysis_out(row)


def analysis_out(row: CompetitorAnalysis) -> dict[str, Any]:
    return {"id": row.id, "client_id": row.client_id, "created_at": row.created_at, **row.result}


def get_analysis(uow: UnitOfWork, principal: Principal, analysis_id: uuid.UUID) -> CompetitorAnalysis:
    row = uow.session.get(CompetitorAnalysis, analysis_id)
    if row is None or not principal.can_see_client(row.client_id):
        raise NotFound("competitor analysis not found")
    return row


def list_analyses(
    uow: UnitOfWork, principal: Principal, query: Any
) -> tuple[list[dict[str, Any]], str | None]:
    stmt = visible_to(select(CompetitorAnalysis), CompetitorAnalysis.client_id, principal, query.client_id)
    rows, nxt = keyset_page(
        uow.session, stmt, CompetitorAnalysis, limit=query.limit, cursor=query.cursor, newest_first=True
    )
    return [
        {
            "id": r.id,
            "client_id": r.client_id,
            "created_at": r.created_at,
            "competitors": len(r.result.get("competitors", [])),
            "moves": len(r.result.get("moves", [])),
        }
        for r in rows
    ], nxt


def to_csv(row: CompetitorAnalysis) -> str:
    """Competitors x periods as CSV; every text cell neutralised against formula injection."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(
        [
            "domain",
            "campaign",
            "period",
            "impression_share",
            "overlap_rate",
            "outranking_share",
            "position_above_rate",
        ]
    )
    for c in row.result.get("competitors", []):
        for p in c["series"]:
            cells = []
            for k in ("impression_share", "overlap_rate", "outranking_share", "position_above_rate"):
                v = p.get(k) or {}
                cells.append("" if v.get("value") is None and "below" not in v else
                             (f"<{v['below']}" if v.get("value") is None else str(v["value"])))  # fmt: skip
            w.writerow(
                [
                    neutralise(str(c["domain"])),
                    neutralise(str(c.get("campaign") or "")),
                    neutralise(str(p["period"])),
                    *cells,
                ]
            )
    return buf.getvalue()
