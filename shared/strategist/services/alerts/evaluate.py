"""Evaluating alert rules on synced data, and the job's entry points (every 15 minutes, after each sync, and on
``client.created`` to install the default rules).

Per client, one read of the campaign-total rows (breakdown '') of the last READ_DAYS days, converted into the
client's currency with the ECB rates (a row whose currency has no rate is left out and named in the evidence);
"today" is the client's local date in its reporting time zone, and the latest day judged is yesterday. Each rule's
evaluation locks the rule row, so a scheduled run and a sync-triggered run never open the same alert twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

from strategist.adapters.db.models import AlertRule, Campaign, Client, PlatformConnection
from strategist.adapters.db.uow import UnitOfWork
from strategist.domain.auth import Principal, Role
from strategist.http.schemas.alerts import SENSITIVITY
from strategist.services import fx
from strategist.services.alerts import detectors as det
from strategist.services.alerts import lifecycle, rules

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
READ_DAYS = det.ANOMALY_HISTORY_DAYS + det.SETTLE_DAYS + 8

_ROWS_SQL = text(
    "SELECT m.campaign_id, m.date, m.currency, m.cost, m.impressions, m.clicks, m.conversions, "
    "m.conversion_value, m.synced_at FROM campaign_metrics m JOIN campaigns c ON c.id = m.campaign_id "
    "WHERE c.client_id = :client AND m.breakdown = '' AND m.date BETWEEN :lo AND :hi"
)


@dataclass
class ClientData:
    client: Client
    today: dt.date
    campaigns: dict[uuid.UUID, Campaign]
    daily: dict[uuid.UUID, det.Daily] = field(default_factory=dict)
    data_as_of: dt.datetime | None = None
    excluded: list[str] = field(default_factory=list)

    def scope_daily(self, rule: AlertRule) -> det.Daily:
        return det.total([self.daily.get(cid, {}) for cid in self.scope_campaigns(rule)])

    def scope_campaigns(self, rule: AlertRule) -> list[uuid.UUID]:
        if rule.scope == "campaign":
            return [rule.campaign_id] if rule.campaign_id in self.campaigns else []
        if rule.scope == "platform":
            return [c.id for c in self.campaigns.values() if c.platform == rule.platform]
        return list(self.campaigns)


def load_client(uow: UnitOfWork, client: Client, now: dt.datetime) -> ClientData:
    today = now.astimezone(ZoneInfo(client.reporting_timezone)).date()
    campaigns = {
        c.id: c for c in uow.session.scalars(select(Campaign).where(Campaign.client_id == client.id))
    }
    data = ClientData(client, today, campaigns)
    lo, hi = today - dt.timedelta(days=READ_DAYS), today - dt.timedelta(days=1)
    rows = uow.session.execute(_ROWS_SQL, {"client": client.id, "lo": lo, "hi": hi}).all()
    foreign = sorted({(r[2], r[1]) for r in rows if r[2] != client.currency})
    table = (
        fx.load_table(uow.session, sorted({client.currency, *(c for c, _ in foreign)}), lo, hi)
        if foreign
        else fx.RateTable.from_rows([])
    )
    excluded: set[str] = set()
    per: dict[uuid.UUID, det.Daily] = defaultdict(dict)
    for cid, day, cur, cost, imp, clicks, conv, value, synced in rows:
        factor = Decimal(1)
        if cur != client.currency:
            try:
                factor = table.factor(cur, client.currency, day).value
            except fx.FxUnavailable:
                excluded.add(cur)
                continue
        per[cid][day] = det.DayTotals(
            float(cost * factor), float(imp), float(clicks), float(conv), float(value * factor)
        )
        data.data_as_of = synced if data.data_as_of is None or synced > data.data_as_of else data.data_as_of
    data.daily = dict(per)
    data.excluded = sorted(excluded)
    return data


def _label(data: ClientData, rule: AlertRule) -> str:
    if rule.scope == "campaign" and rule.campaign_id in data.campaigns:
        return f"campaign '{data.campaigns[rule.campaign_id].name}'"
    if rule.scope == "platform":
        return f"{data.client.name} on {rule.platform}"
    return data.client.name


def _scope_key(rule: AlertRule) -> str:
    if rule.scope == "campaign":
        return f"campaign:{rule.campaign_id}"
    if rule.scope == "platform":
        return f"platform:{rule.platform}"
    return f"client:{rule.client_id}"


def _pacing_target(data: ClientData, rule: AlertRule) -> tuple[float | None, str]:
    params = rule.params
    if params.get("monthly_target") is not None:
        return float(params["monthly_target"]), "the rule's monthly target"
    if rule.scope == "client":
        budget = data.client.monthly_budget
        return (None, "the client has no monthly_budget") if budget is None else (
            float(budget), "the client's monthly budget")  # fmt: skip
    camp = data.campaigns.get(rule.campaign_id) if rule.campaign_id else None
    if camp is None or camp.budget_amount is None:
        return None, "no monthly target: the campaign has no budget on record"
    if camp.currency != data.client.currency:
        return None, f"the campaign's budget is in {camp.currency}, not the client's {data.client.currency}"
    days = calendar.monthrange(data.today.year, data.today.month)[1]
    if camp.budget_type == "lifetime":
        if camp.start_date is None or camp.end_date is None:
            return None, "a lifetime budget needs the flight's dates to give a monthly amount"
        per_day = float(camp.budget_amount) / ((camp.end_date - camp.start_date).days + 1)
        return per_day * days, "the campaign's lifetime budget pro-rated per day x days in the month"
    return float(camp.budget_amount) * days, f"the campaign's daily budget x {days} days"


def evaluate_rule(uow: UnitOfWork, rule: AlertRule, data: ClientData) -> list[det.Finding]:
    label, cur, today, params = _label(data, rule), data.client.currency, data.today, rule.params
    common: dict[str, Any] = {
        "data_as_of": data.data_as_of,
        "client_today": today,
        "time_zone": data.client.reporting_timezone,
    }
    if data.excluded:
        common["excluded_currencies"] = data.excluded
    findings: list[det.Finding] = []
    if rule.kind == "connection_broken":
        return _connections(uow, rule, data, common)
    if rule.kind == "tracking_stopped":
        for cid in data.scope_campaigns(rule):
            camp = data.campaigns[cid]
            f = det.tracking_stopped(
                data.daily.get(cid, {}), params=params, today=today, object_key=f"campaign:{cid}",
                label=f"campaign '{camp.name}' ({camp.platform})",
            )  # fmt: skip
            f.campaign_id = cid
            findings.append(f)
    else:
        daily = data.scope_daily(rule)
        key = _scope_key(rule)
        campaign_id = rule.campaign_id if rule.scope == "campaign" else None
        if rule.kind == "anomaly":
            thr = SENSITIVITY[params.get("sensitivity", "medium")]
            for metric in params.get("metrics", ["cost", "conversions"]):
                f = det.anomaly(
                    daily, metric=metric, threshold=thr, direction=params.get("direction", "both"), today=today,
                    object_key=f"{key}:{metric}", label=label, currency=cur,
                )  # fmt: skip
                f.campaign_id = campaign_id
                findings.append(f)
        elif rule.kind == "threshold":
            f = det.threshold(daily, params=params, today=today, object_key=key, label=label, currency=cur)
            f.campaign_id = campaign_id
            findings.append(f)
        elif rule.kind == "pacing":
            target, basis = _pacing_target(data, rule)
            f = det.pacing(
                daily, params=params, target=target, target_basis=basis, today=today, object_key=key,
                label=label, currency=cur,
            )  # fmt: skip
            f.campaign_id = campaign_id
            findings.append(f)
    for f in findings:
        f.evidence = {**f.evidence, **common}
    return findings


def _connections(
    uow: UnitOfWork, rule: AlertRule, data: ClientData, common: dict[str, Any]
) -> list[det.Finding]:
    stmt = select(PlatformConnection).where(
        PlatformConnection.client_id == rule.client_id, PlatformConnection.deleted_at.is_(None)
    )
    if rule.scope == "platform":
        stmt = stmt.where(PlatformConnection.platform == rule.platform)
    if rule.scope == "campaign":
        camp = data.campaigns.get(rule.campaign_id) if rule.campaign_id else None
        stmt = stmt.where(PlatformConnection.id == (camp.connection_id if camp else None))
    stale_h = rule.params.get("stale_after_hours")
    now = dt.datetime.now(dt.UTC)
    out = []
    for conn in uow.session.scalars(stmt):
        evidence = {
            **common, "connection": {"id": conn.id, "platform": conn.platform, "account_id": conn.account_id,
            "name": conn.name, "status": conn.status, "broken_reason": conn.broken_reason,
            "broken_at": conn.broken_at, "last_sync_at": conn.last_sync_at,
            "last_sync_status": conn.last_sync_status, "last_error": conn.last_error,
            "data_through": conn.data_through}, "stale_after_hours": stale_h,
        }  # fmt: skip
        key = f"connection:{conn.id}"
        label = f"{conn.platform} account {conn.account_id} ({conn.name})"
        if conn.status != "active":
            title = f"{label} needs reconnecting"
            message = (
                f"The {label} connection of {data.client.name} is {conn.status}"
                + (f" since {conn.broken_at:%Y-%m-%d %H:%M} UTC" if conn.broken_at else "")
                + (f": {conn.broken_reason}" if conn.broken_reason else "")
                + ". No data syncs until it is reconnected"
                + (f"; data runs through {conn.data_through}." if conn.data_through else ".")
            )
            out.append(det.Finding(key, "firing", title, message, evidence, connection_id=conn.id))
            continue
        last = conn.last_sync_at
        if stale_h and (last is None or now - last > dt.timedelta(hours=stale_h)):
            if last is None and now - conn.created_at <= dt.timedelta(hours=stale_h):
                out.append(det.Finding(key, "unknown", evidence=evidence, connection_id=conn.id))
                continue
            ago = "never" if last is None else f"{(now - last).total_seconds() / 3600:.0f} hours ago"
            title = f"{label} has not synced for over {stale_h} hours"
            message = (
                f"The {label} connection of {data.client.name} last synced {ago} (threshold {stale_h} hours); "
                f"last status {conn.last_sync_status or 'none'}"
                + (f": {conn.last_error}" if conn.last_error else "")
                + "."
            )
            out.append(det.Finding(key, "firing", title, message, evidence, connection_id=conn.id))
            continue
        out.append(det.Finding(key, "clear", evidence=evidence, connection_id=conn.id))
    return out


# -- the job ------------------------------------------------------------------------------------------------------
@dataclass
class RunReport:
    clients: int = 0
    rules: int = 0
    opened: int = 0
    reopened: int = 0
    resolved: int = 0
    updated: int = 0
    notified: int = 0
    failed: int = 0
    defaults_installed: int = 0


def evaluate_client(
    uow: UnitOfWork,
    client_id: uuid.UUID,
    now: dt.datetime,
    report: RunReport,
    rule_ids: list[uuid.UUID] | None = None,
) -> None:
    client = uow.session.scalar(select(Client).where(Client.id == client_id, Client.deleted_at.is_(None)))
    if client is None:
        return
    stmt = select(AlertRule).where(AlertRule.client_id == client.id, AlertRule.enabled.is_(True))
    if rule_ids is not None:
        stmt = stmt.where(AlertRule.id.in_(rule_ids))
    rule_list = list(
        uow.session.scalars(stmt.order_by(AlertRule.created_at).with_for_update(skip_locked=True))
    )
    if not rule_list:
        return
    report.clients += 1
    data = load_client(uow, client, now)
    for rule in rule_list:
        report.rules += 1
        counts = lifecycle.apply_findings(uow, rule, client, evaluate_rule(uow, rule, data), now)
        for k, v in counts.items():
            setattr(report, k, getattr(report, k) + v)


def run(
    uow_factory: UowFactory,
    *,
    tenant_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> RunReport:
    """Evaluate every enabled rule (of one client when given), one client per transaction so a failure in one
    client's rules never holds back the others."""
    now = now or dt.datetime.now(dt.UTC)
    report = RunReport()
    with uow_factory() as uow:
        scopes = [
            tuple(r)
            for r in uow.session.execute(text("SELECT tenant_id, client_id FROM system_alert_scopes()"))
        ]
    for t_id, c_id in scopes:
        if (tenant_id is not None and t_id != tenant_id) or (client_id is not None and c_id != client_id):
            continue
        try:
            with uow_factory() as uow:
                uow.set_tenant(t_id)
                evaluate_client(uow, c_id, now, report)
        except Exception:
            report.failed += 1
            log.exception("alert evaluation failed for client %s", c_id)
    return report


def preview(uow: UnitOfWork, rule: AlertRule, now: dt.datetime | None = None) -> dict[str, Any]:
    """What the rule would find now, without changing any alert (no writes): for trying a rule's params."""
    from strategist.adapters.db.uow import jsonable

    now = now or dt.datetime.now(dt.UTC)
    client = uow.session.get(Client, rule.client_id)
    assert client is not None
    data = load_client(uow, client, now)
    findings = evaluate_rule(uow, rule, data)
    live = lifecycle.live_alerts(uow, rule)
    return jsonable({
        "rule_id": rule.id,
        "evaluated_at": now,
        "client_today": data.today,
        "data_as_of": data.data_as_of,
        "findings": [
            {"object_key": f.object_key, "status": f.status, "title": f.title or None, "message": f.message or None,
             "live_alert_id": live[f.object_key].id if f.object_key in live else None, "evidence": f.evidence}
            for f in findings
        ],
    })  # fmt: skip


def install_defaults_for(uow_factory: UowFactory, tenant_id: uuid.UUID, client_id: uuid.UUID) -> int:
    system = Principal(tenant_id=tenant_id, user_id=None, role=Role.OWNER, client_ids=None)
    with uow_factory() as uow:
        uow.set_tenant(tenant_id)
        return len(rules.install_defaults(uow, system, client_id))
