"""Meta Marketing API (Graph) surface: ad account, insights (sync + async report runs), campaigns, budgets."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from infra.platform_sim.responses import bearer, decode_cursor, delay, encode_cursor, form_data, json_response
from infra.platform_sim.state import Rows, SimAccount, SimCampaign, SimState, meta_offset, money_str

_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<rest>.+)$")
_STATUS = {"active": "ACTIVE", "paused": "PAUSED", "removed": "DELETED"}
_SUPPORTED_WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view", "1d_ev")
#: How the simulator splits a day's conversions across attribution windows (shares of the 7d_click+1d_view total).
_WINDOW_SHARE = {"7d_click": 0.84, "1d_click": 0.66, "28d_click": 0.9, "1d_view": 0.16, "1d_ev": 0.02}
DEFAULT_FIELDS = ("date_start", "date_stop")


def error(
    message: str,
    code: int,
    *,
    subcode: int | None = None,
    transient: bool = False,
    status: int = 400,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "is_transient": transient,
        "code": code,
    }
    if subcode is not None:
        body["error_subcode"] = subcode
    body.update(extra)
    body["fbtrace_id"] = "SimFbTrace0001"
    return json_response({"error": body}, status, headers)


def usage_headers(account_id: str | None, percent: float, regain_minutes: int = 0) -> dict[str, str]:
    key = account_id or "0"
    buc = {
        key: [
            {
                "type": "ads_insights",
                "call_count": percent,
                "total_cputime": max(1, percent // 2),
                "total_time": max(1, percent // 2),
                "estimated_time_to_regain_access": regain_minutes,
                "ads_api_access_tier": "standard_access",
            }
        ]
    }
    return {
        "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
        "x-ad-account-usage": json.dumps(
            {
                "acc_id_util_pct": percent,
                "reset_time_duration": 100,
                "ads_api_access_tier": "standard_access",
            },
            separators=(",", ":"),
        ),
        "x-app-usage": json.dumps(
            {"call_count": max(1, percent // 3), "total_cputime": 1, "total_time": 1}, separators=(",", ":")
        ),
    }


def expired() -> Response:
    return error(
        "Error validating access token: Session has expired on Monday, 03-Aug-26 09:00:00 PDT. "
        "The current time is Monday, 03-Aug-26 09:05:00 PDT.",
        190,
        subcode=463,
    )


def _split(total: float, windows: list[str]) -> dict[str, float]:
    click7 = float(round(total * _WINDOW_SHARE["7d_click"]))
    out = {}
    for window in windows:
        if window == "7d_click":
            out[window] = click7
        elif window == "1d_view":
            out[window] = total - click7
        else:
            out[window] = float(round(total * _WINDOW_SHARE.get(window, 0.0)))
    return out


def _insight_rows(
    rows: Rows, account: SimAccount, fields: list[str], windows: list[str], start: int, stop: int
) -> list[dict[str, Any]]:
    currency = account.currency
    out = []
    for k in range(start, min(stop, len(rows))):
        campaign = rows.campaigns[k]
        day = rows.dates[k].isoformat()
        conversions = rows.conversions[k]
        value = rows.conversion_value[k]
        row: dict[str, Any] = {}
        for field in fields:
            if field == "account_currency":
                row[field] = currency
            elif field == "account_id":
                row[field] = account.account_id
            elif field == "campaign_id":
                row[field] = campaign.id
            elif field == "campaign_name":
                row[field] = campaign.spec.name
            elif field == "spend":
                row[field] = money_str(rows.spend[k], currency)
            elif field == "impressions":
                row[field] = str(rows.impressions[k])
            elif field == "clicks":
                row[field] = str(rows.clicks[k])
            elif field == "reach":
                row[field] = str(rows.reach[k])
            elif field == "actions":
                link = int(rows.clicks[k] * 0.86)
                actions = [
                    {
                        "action_type": "link_click",
                        "value": str(link),
                        **({"7d_click": str(link)} if "7d_click" in windows else {}),
                    }
                ]
                if conversions > 0:
                    split = {w: str(int(v)) for w, v in _split(conversions, windows).items() if v > 0}
                    for action_type in ("offsite_conversion.fb_pixel_purchase", "purchase"):
                        actions.append({"action_type": action_type, "value": str(int(conversions)), **split})
                row[field] = actions
            elif field == "action_values" and conversions > 0:
                shares = _split(conversions, windows)
                split = {w: money_str(value * v / conversions, currency) for w, v in shares.items() if v > 0}
                if "7d_click" in split and "1d_view" in split:
                    split["1d_view"] = money_str(
                        float(Decimal(money_str(value, currency)) - Decimal(split["7d_click"])), currency
                    )
                row[field] = [
                    {"action_type": t, "value": money_str(value, currency), **split}
                    for t in ("offsite_conversion.fb_pixel_purchase", "purchase")
                ]
        row["date_start"] = day
        row["date_stop"] = day
        out.append(row)
    return out


def _paged(
    request: Request,
    version: str,
    path: str,
    items_total: int,
    limit: int,
    offset: int,
    build: Any,
    headers: dict[str, str],
) -> Response:
    data = build(offset, offset + limit)
    body: dict[str, Any] = {"data": data}
    if items_total:
        body["paging"] = {
            "cursors": {"before": encode_cursor(offset), "after": encode_cursor(offset + len(data))}
        }
        if offset + limit < items_total:
            params = dict(request.query_params)
            params.pop("access_token", None)
            params["after"] = encode_cursor(offset + limit)
            query = "&".join(f"{k}={v}" for k, v in params.items())
            body["paging"]["next"] = f"{str(request.base_url).rstrip('/')}/{version}/{path}?{query}"
    return json_response(body, 200, headers)


def _params(request: Request, form: dict[str, Any]) -> dict[str, str]:
    return {**dict(request.query_params), **{k: str(v) for k, v in form.items()}}


def _insights_query(params: dict[str, str]) -> tuple[list[str], date, date, list[str]] | Response:
    if params.get("level", "campaign") != "campaign":
        return error("(#100) The simulator serves level=campaign only", 100)
    if params.get("time_increment", "1") != "1":
        return error("(#100) time_increment must be 1 in the simulator", 100)
    try:
        time_range = json.loads(params.get("time_range", "{}"))
        since, until = date.fromisoformat(time_range["since"]), date.fromisoformat(time_range["until"])
        windows = json.loads(params.get("action_attribution_windows", '["7d_click","1d_view"]'))
    except (ValueError, KeyError, TypeError):
        return error("(#100) Invalid parameter: time_range or action_attribution_windows", 100)
    for window in windows:
        if window not in _SUPPORTED_WINDOWS:
            return error(f"(#100) {window} is not a valid attribution window", 100)
    fields = [f for f in params.get("fields", "spend,impressions,clicks").split(",") if f]
    return fields, since, until, windows


async def handle(request: Request, state: SimState, path: str) -> Response:
    match = _PATH.match(path)
    if not match:
        return error("Unknown path components", 2500)
    version, rest = match.group("version"), match.group("rest")
    if rest == "oauth/access_token":
        return exchange(request, state)
    token = bearer(request.headers.get("authorization")) or request.query_params.get("access_token")
    account_hint = rest.split("/")[0].removeprefix("act_") if rest.startswith("act_") else None
    fault = state.take_fault(
        "meta", path, kinds=("429", "5xx", "timeout", "expired_token", "malformed_page", "usage_high")
    )
    if fault is not None and fault.kind == "expired_token" and token:
        state.expired_tokens.add(token)
    elif fault is not None and fault.kind in ("429", "5xx", "timeout"):
        await delay(fault)
        if fault.kind == "429":
            minutes = int((fault.retry_after_seconds or 60) // 60) or 1
            return error(
                "(#17) User request limit reached",
                17,
                subcode=2446079,
                transient=True,
                headers=usage_headers(account_hint, 100, minutes),
            )
        if fault.kind == "5xx":
            return error(
                "An unexpected error has occurred. Please retry your request later.",
                2,
                transient=True,
                status=500,
            )
        return error(
            "Please reduce the amount of data you're asking for, then retry your request",
            1,
            subcode=1504018,
            status=500,
            error_user_title="Request Timed Out",
        )
    if not token or token in state.expired_tokens:
        return expired()
    headers = usage_headers(account_hint, 90 if fault is not None and fault.kind == "usage_high" else 4)
    form = await form_data(request) if request.method == "POST" else {}
    response = await route(request, state, version, rest, form, headers)
    if fault is not None and fault.kind == "malformed_page":
        return Response(response.body[: max(1, len(response.body) // 2)], 200, media_type="application/json")
    return response


async def route(
    request: Request, state: SimState, version: str, rest: str, form: dict[str, Any], headers: dict[str, str]
) -> Response:
    parts = rest.split("/")
    params = _params(request, form)
    if parts[0].startswith("act_"):
        account = state.account("meta", parts[0].removeprefix("act_"))
        if account is None:
            return error(
                f"Unsupported get request. Object with ID '{parts[0]}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                100,
                subcode=33,
            )
        if len(parts) == 1:
            return json_response(
                {
                    "id": parts[0],
                    "account_id": account.account_id,
                    "name": account.spec.name,
                    "currency": account.currency,
                    "timezone_name": account.spec.time_zone,
                },
                200,
                headers,
            )
        if parts[1] == "insights" and request.method == "GET":
            return insights(request, state, account, params, version, f"{parts[0]}/insights", headers)
        if parts[1] == "insights" and request.method == "POST":
            query = _insights_query(params)
            if isinstance(query, Response):
                return query
            run_id = str(6_100_000_000_000_000 + state.next_id())
            state.jobs[run_id] = {"account": account, "params": params, "polls": 0}
            return json_response({"report_run_id": run_id}, 200, headers)
        if parts[1] == "campaigns":
            campaigns = list(account.campaigns.values())
            limit = int(params.get("limit", "25"))
            offset = decode_cursor(params.get("after"))
            fields = params.get("fields", "id,name").split(",")
            return _paged(
                request,
                version,
                rest,
                len(campaigns),
                limit,
                offset,
                lambda a, b: [campaign_object(c, account, fields) for c in campaigns[a:b]],
                headers,
            )
        return error("Unknown path components: " + rest, 2500)
    job = state.jobs.get(parts[0])
    if job is not None:
        account = job["account"]
        if len(parts) == 1:
            job["polls"] += 1
            done = job["polls"] > state.meta_polls_until_complete
            query = _insights_query(job["params"])
            assert not isinstance(query, Response)
            return json_response(
                {
                    "id": parts[0],
                    "account_id": account.account_id,
                    "async_status": "Job Completed" if done else "Job Running",
                    "async_percent_completion": 100 if done else 50,
                    "date_start": query[1].isoformat(),
                    "date_stop": query[2].isoformat(),
                },
                200,
                headers,
            )
        if parts[1] == "insights":
            if job["polls"] <= state.meta_polls_until_complete:
                return error("(#100) The report is not ready yet", 100)
            merged = {**job["params"], "limit": params.get("limit", "25")}
            if "after" in params:
                merged["after"] = params["after"]
            return insights(request, state, account, merged, version, rest, headers)
    campaign = state.find_campaign("meta", parts[0])
    if campaign is None or len(parts) != 1:
        return error(
            f"Unsupported {request.method.lower()} request. Object with ID '{parts[0]}' does not exist.",
            100,
            subcode=33,
        )
    account = state.account("meta", campaign.account_id)
    assert account is not None
    if request.method == "GET":
        fields = params.get("fields", "id,name").split(",")
        return json_response(campaign_object(campaign, account, fields), 200, headers)
    return update_campaign(state, campaign, account, params, headers)


def insights(
    request: Request,
    state: SimState,
    account: SimAccount,
    params: dict[str, str],
    version: str,
    path: str,
    headers: dict[str, str],
) -> Response:
    query = _insights_query(params)
    if isinstance(query, Response):
        return query
    fields, since, until, windows = query
    rows = state.rows(account, None, since, until)
    limit = min(5000, int(params.get("limit", "25")))
    offset = decode_cursor(params.get("after"))
    if offset < 0:
        return error("(#100) Invalid cursor", 100)
    return _paged(
        request,
        version,
        path,
        len(rows),
        limit,
        offset,
        lambda a, b: _insight_rows(rows, account, fields, windows, a, b),
        headers,
    )


def campaign_object(campaign: SimCampaign, account: SimAccount, fields: list[str]) -> dict[str, Any]:
    minor = str(int(campaign.budget_amount * meta_offset(account.currency)))
    values = {
        "id": campaign.id,
        "name": campaign.spec.name,
        "status": _STATUS[campaign.status],
        "effective_status": _STATUS[campaign.status],
        "objective": campaign.spec.objective or "OUTCOME_SALES",
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
    }
    if campaign.budget_type == "daily":
        values["daily_budget"] = minor
    else:
        values["lifetime_budget"] = minor
    values["budget_remaining"] = minor
    return {"id": campaign.id, **{f: values[f] for f in fields if f in values}}


def update_campaign(
    state: SimState,
    campaign: SimCampaign,
    account: SimAccount,
    params: dict[str, str],
    headers: dict[str, str],
) -> Response:
    field = (
        "daily_budget"
        if "daily_budget" in params
        else "lifetime_budget"
        if "lifetime_budget" in params
        else None
    )
    if field is None and params.get("status") in ("ACTIVE", "PAUSED"):  # issue 6 (optimize slice)
        if campaign.status == "removed":
            return error("(#100) A deleted campaign cannot change status", 100)
        if "validate_only" not in params.get("execution_options", "[]"):
            state.set_status(campaign, "active" if params["status"] == "ACTIVE" else "paused")
        return json_response({"success": True}, 200, headers)
    if field is None:
        return error("(#100) No supported field to update", 100)
    try:
        minor = Decimal(params[field])
    except InvalidOperation:
        return error(f"(#100) Param {field} must be an integer", 100)
    if minor != minor.to_integral_value() or minor <= 0:
        return error(f"(#100) Param {field} must be a positive integer", 100)
    expected = "daily" if field == "daily_budget" else "lifetime"
    if expected != campaign.budget_type:
        return error("Invalid budget type: the campaign has a different budget type", 100, subcode=1885621)
    options = params.get("execution_options", "[]")
    if "validate_only" in options:
        return json_response({"success": True}, 200, headers)
    amount = minor / meta_offset(account.currency)
    state.set_budget(campaign, amount, expected, source="meta_ads campaign update")
    return json_response({"success": True}, 200, headers)


def exchange(request: Request, state: SimState) -> Response:
    params = request.query_params
    current = params.get("fb_exchange_token")
    if params.get("grant_type") != "fb_exchange_token" or not current or not params.get("client_secret"):
        return error("(#100) Missing or invalid grant parameters", 100)
    if (
        current in state.expired_tokens
        or state.take_fault("meta", "oauth", kinds=("invalid_grant",)) is not None
    ):
        return expired()
    return json_response(
        {"access_token": f"EAASim{state.next_id()}", "token_type": "bearer", "expires_in": 5183944}
    )
