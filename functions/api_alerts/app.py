"""Alert rules (threshold, anomaly, pacing, conversion tracking stopped, connection broken) and the alerts they
raise, with their state changes. The work is in strategist.services.alerts; job_alerts evaluates the rules."""

from __future__ import annotations

import uuid

from chalice import Chalice

from strategist.domain.auth import Role
from strategist.http.api import Api, RequestCtx, Result
from strategist.http.schemas.alerts import (
    AlertListQuery,
    AlertNote,
    AlertOut,
    AlertRuleCreate,
    AlertRuleDefaults,
    AlertRuleListQuery,
    AlertRuleOut,
    AlertRulePreviewOut,
    AlertRuleUpdate,
    AlertSnooze,
)
from strategist.http.schemas.common import Page
from strategist.services.alerts import lifecycle, rules

app = Chalice(app_name="api_alerts")
api = Api(app)
RULE = {"rule_id": uuid.UUID}
ALERT = {"alert_id": uuid.UUID}
TAGS = ("alerts",)


def _rule_visible(ctx: RequestCtx) -> None:
    rules.get_rule(ctx.uow, ctx.me, ctx.path["rule_id"])


def _alert_visible(ctx: RequestCtx) -> None:
    lifecycle.get_alert(ctx.uow, ctx.me, ctx.path["alert_id"])


@api.route(
    "/api/v1/alerts/rules",
    "POST",
    summary="Create an alert rule: kind, scope (client, campaign or platform), params, channels, severity",
    body=AlertRuleCreate,
    response=AlertRuleOut,
    status=201,
    min_role=Role.ANALYST,
    envelope_key="rule",
    tags=TAGS,
)
def create_rule(ctx: RequestCtx) -> Result:
    """params by kind: threshold {metric, comparator, value, window_days}; anomaly {metrics, sensitivity,
    direction}; pacing {monthly_target (client currency), band_start_pct, band_end_pct, curve, alert_on};
    tracking_stopped {days, min_clicks_per_day, baseline_days, min_baseline_conversion_share};
    connection_broken {stale_after_hours}."""
    created = rules.create_rule(ctx.uow, ctx.me, ctx.body)
    return Result(created, status=201, message="Alert rule created")


@api.route(
    "/api/v1/alerts/rules",
    "GET",
    summary="Alert rules you can see, newest first, paginated",
    query=AlertRuleListQuery,
    response=Page,
    envelope_key="rules",
    tags=TAGS,
)
def list_rules(ctx: RequestCtx) -> Page:
    items, next_cursor = rules.list_rules(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/alerts/rules/defaults",
    "POST",
    summary="Install the default rules a client lacks (connection broken, tracking stopped, anomaly, pacing)",
    body=AlertRuleDefaults,
    response=Page,
    min_role=Role.ANALYST,
    envelope_key="rules",
    tags=TAGS,
)
def install_defaults(ctx: RequestCtx) -> Result:
    """Idempotent per kind: a client that already has a default rule of a kind does not get a second one. New
    clients get these automatically (the alert job handles client.created)."""
    created = rules.install_defaults(ctx.uow, ctx.me, ctx.body.client_id)
    return Result(Page(items=created), message=f"{len(created)} default rule(s) installed")


@api.route(
    "/api/v1/alerts/rules/{rule_id}",
    "GET",
    summary="One alert rule",
    response=AlertRuleOut,
    path_params=RULE,
    envelope_key="rule",
    tags=TAGS,
    guard=_rule_visible,
)
def get_rule(ctx: RequestCtx) -> AlertRuleOut:
    return AlertRuleOut.model_validate(rules.get_rule(ctx.uow, ctx.me, ctx.path["rule_id"]))


@api.route(
    "/api/v1/alerts/rules/{rule_id}",
    "PATCH",
    summary="Change an alert rule's name, params, channels, recipients, severity or enabled flag",
    body=AlertRuleUpdate,
    response=AlertRuleOut,
    path_params=RULE,
    min_role=Role.ANALYST,
    envelope_key="rule",
    tags=TAGS,
    guard=_rule_visible,
)
def update_rule(ctx: RequestCtx) -> Result:
    return Result(
        rules.update_rule(ctx.uow, ctx.me, ctx.path["rule_id"], ctx.body), message="Alert rule updated"
    )


@api.route(
    "/api/v1/alerts/rules/{rule_id}",
    "DELETE",
    summary="Delete an alert rule and its alerts",
    status=204,
    path_params=RULE,
    min_role=Role.ANALYST,
    tags=TAGS,
    guard=_rule_visible,
)
def delete_rule(ctx: RequestCtx) -> Result:
    rules.delete_rule(ctx.uow, ctx.me, ctx.path["rule_id"])
    return Result(None, status=204)


@api.route(
    "/api/v1/alerts/rules/{rule_id}/preview",
    "POST",
    summary="Evaluate a rule now and show what it would fire, with the numbers, without changing any alert",
    response=AlertRulePreviewOut,
    path_params=RULE,
    min_role=Role.ANALYST,
    envelope_key="preview",
    tags=TAGS,
    guard=_rule_visible,
)
def preview_rule(ctx: RequestCtx) -> AlertRulePreviewOut:
    """Each finding is firing (with its title and message), clear, or unknown (not enough data, with the reason);
    live_alert_id names the alert an evaluation would update."""
    from strategist.services.alerts import evaluate

    preview = evaluate.preview(ctx.uow, rules.get_rule(ctx.uow, ctx.me, ctx.path["rule_id"]))
    return AlertRulePreviewOut.model_validate(preview)


@api.route(
    "/api/v1/alerts",
    "GET",
    summary="Alerts you can see, newest first, paginated; filter by state, client, severity, kind or rule",
    query=AlertListQuery,
    response=Page,
    envelope_key="alerts",
    tags=TAGS,
)
def list_alerts(ctx: RequestCtx) -> Page:
    items, next_cursor = lifecycle.list_alerts(ctx.uow, ctx.me, ctx.query)
    return Page(items=items, next_cursor=next_cursor)


@api.route(
    "/api/v1/alerts/{alert_id}",
    "GET",
    summary="One alert with why it fired: observed value, expected band, window and data as of",
    response=AlertOut,
    path_params=ALERT,
    envelope_key="alert",
    tags=TAGS,
    guard=_alert_visible,
)
def get_alert(ctx: RequestCtx) -> AlertOut:
    return AlertOut.model_validate(lifecycle.get_alert(ctx.uow, ctx.me, ctx.path["alert_id"]))


@api.route(
    "/api/v1/alerts/{alert_id}/acknowledge",
    "POST",
    summary="Acknowledge an open or snoozed alert (someone is on it); it stays live until it clears",
    body=AlertNote,
    response=AlertOut,
    path_params=ALERT,
    min_role=Role.ANALYST,
    envelope_key="alert",
    tags=TAGS,
    guard=_alert_visible,
)
def acknowledge(ctx: RequestCtx) -> Result:
    return Result(
        lifecycle.acknowledge(ctx.uow, ctx.me, ctx.path["alert_id"], ctx.body), message="Acknowledged"
    )


@api.route(
    "/api/v1/alerts/{alert_id}/snooze",
    "POST",
    summary="Snooze an alert until a time; it reopens then if still firing, resolves quietly if it cleared",
    body=AlertSnooze,
    response=AlertOut,
    path_params=ALERT,
    min_role=Role.ANALYST,
    envelope_key="alert",
    tags=TAGS,
    guard=_alert_visible,
)
def snooze(ctx: RequestCtx) -> Result:
    return Result(lifecycle.snooze(ctx.uow, ctx.me, ctx.path["alert_id"], ctx.body), message="Snoozed")


@api.route(
    "/api/v1/alerts/{alert_id}/resolve",
    "POST",
    summary="Resolve an alert by hand; if its condition still holds, the next evaluation opens a new one",
    body=AlertNote,
    response=AlertOut,
    path_params=ALERT,
    min_role=Role.ANALYST,
    envelope_key="alert",
    tags=TAGS,
    guard=_alert_visible,
)
def resolve(ctx: RequestCtx) -> Result:
    return Result(lifecycle.resolve(ctx.uow, ctx.me, ctx.path["alert_id"], ctx.body), message="Resolved")
