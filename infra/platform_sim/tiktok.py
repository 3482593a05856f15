"""TikTok API for Business v1.3 surface: report/integrated/get, advertiser info, campaigns, OAuth refresh.

Application errors are HTTP 200 with a non-zero ``code`` in the envelope, like the real API.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from infra.platform_sim.responses import delay, json_response
from infra.platform_sim.state import SimAccount, SimCampaign, SimState, currency_decimals, money_str

_PATH = re.compile(r"^/open_api/(?P<version>v\d+\.\d+)/(?P<rest>.+?)/?$")
_MAX_DAYS = 30


def envelope(code: int, message: str, data: Any = None, status: int = 200) -> Response:
    return json_response(
        {
            "code": code,
            "message": message,
            "request_id": "2026080309123401011515319112SIM0",
            "data": data if data is not None else {},
        },
        status,
    )


def ok(data: Any) -> Response:
    return envelope(0, "OK", data)


def _json_param(params: Any, name: str, default: Any) -> Any:
    raw = params.get(name)
    if raw is None:
        return default
    return json.loads(raw)


async def handle(request: Request, state: SimState, path: str) -> Response:
    match = _PATH.match(path)
    if not match:
        return Response("Not Found", 404)
    rest = match.group("rest")
    if rest == "oauth2/refresh_token":
        return await refresh(request, state)
    token = request.headers.get("access-token")
    fault = state.take_fault(
        "tiktok", path, kinds=("429", "5xx", "timeout", "expired_token", "malformed_page")
    )
    if fault is not None and fault.kind == "expired_token" and token:
        state.expired_tokens.add(token)
    elif fault is not None and fault.kind in ("429", "5xx", "timeout"):
        await delay(fault)
        if fault.kind == "429":
            return envelope(40100, "Too many requests. Please retry in some time.")
        if fault.kind == "5xx":
            return envelope(50000, "System error, please try again later.")
        return Response("Gateway Timeout", 504, media_type="text/plain")
    if not token or token in state.expired_tokens:
        return envelope(40105, "The access token is invalid or has expired.")
    try:
        response = await route(request, state, rest)
    except (ValueError, KeyError) as exc:
        response = envelope(40002, f"Invalid parameter: {exc}")
    if fault is not None and fault.kind == "malformed_page":
        return Response(response.body[: max(1, len(response.body) // 2)], 200, media_type="application/json")
    return response


async def route(request: Request, state: SimState, rest: str) -> Response:
    params = request.query_params
    if rest == "advertiser/info":
        ids = _json_param(params, "advertiser_ids", [])
        rows = []
        for advertiser_id in ids:
            account = state.account("tiktok", str(advertiser_id))
            if account is not None:
                rows.append(
                    {
                        "advertiser_id": account.account_id,
                        "name": account.spec.name,
                        "currency": account.currency,
                        "timezone": account.spec.time_zone,
                        "display_timezone": account.spec.time_zone,
                    }
                )
        if not rows:
            return envelope(40001, "No permission to operate advertiser.")
        return ok({"list": rows})
    if rest == "campaign/update" and request.method == "POST":
        return update(state, await request.json())
    if rest == "campaign/status/update" and request.method == "POST":  # issue 6 (optimize slice)
        return update_status(state, await request.json())
    account = state.account("tiktok", params.get("advertiser_id", ""))
    if account is None:
        return envelope(40001, "No permission to operate advertiser.")
    page = int(params.get("page", "1"))
    size = int(params.get("page_size", "10"))
    if size > 1000 or size < 1 or page < 1:
        return envelope(40002, "page_size: must be between 1 and 1000.")
    if rest == "report/integrated/get":
        return report(state, account, params, page, size)
    if rest == "campaign/get":
        wanted = _json_param(params, "filtering", {}).get("campaign_ids")
        campaigns = [c for c in account.campaigns.values() if wanted is None or c.id in wanted]
        chunk = campaigns[(page - 1) * size : page * size]
        return ok(
            {
                "list": [campaign_object(c, account) for c in chunk],
                "page_info": _page_info(page, size, len(campaigns)),
            }
        )
    return envelope(40002, f"Unsupported path in simulator: {rest}")


def _page_info(page: int, size: int, total: int) -> dict[str, int]:
    return {"page": page, "page_size": size, "total_number": total, "total_page": max(1, -(-total // size))}


def report(state: SimState, account: SimAccount, params: Any, page: int, size: int) -> Response:
    if params.get("data_level") != "AUCTION_CAMPAIGN" or params.get("report_type") != "BASIC":
        return envelope(40002, "The simulator serves report_type=BASIC, data_level=AUCTION_CAMPAIGN.")
    dimensions = _json_param(params, "dimensions", [])
    if dimensions != ["campaign_id", "stat_time_day"]:
        return envelope(40002, 'dimensions: the simulator serves ["campaign_id","stat_time_day"].')
    start, end = date.fromisoformat(params["start_date"]), date.fromisoformat(params["end_date"])
    if (end - start).days + 1 > _MAX_DAYS or end < start:
        return envelope(
            40002, f"The time span between start_date and end_date must be within {_MAX_DAYS} days."
        )
    metrics = _json_param(params, "metrics", [])
    rows = state.rows(account, None, start, end)
    lo, hi = (page - 1) * size, min(len(rows), page * size)
    items = []
    for k in range(lo, hi):
        values = {
            "campaign_name": rows.campaigns[k].spec.name,
            "spend": money_str(rows.spend[k], account.currency),
            "impressions": str(rows.impressions[k]),
            "clicks": str(rows.clicks[k]),
            "conversion": str(int(rows.conversions[k])),
            "total_purchase_value": money_str(rows.conversion_value[k], account.currency),
            "video_play_actions": str(rows.video_views[k]),
            "reach": str(rows.reach[k]),
        }
        unknown = [m for m in metrics if m not in values]
        if unknown:
            return envelope(40002, f"metrics: {unknown[0]} is not a valid metric.")
        items.append(
            {
                "dimensions": {
                    "campaign_id": rows.campaigns[k].id,
                    "stat_time_day": f"{rows.dates[k].isoformat()} 00:00:00",
                },
                "metrics": {m: values[m] for m in metrics},
            }
        )
    return ok({"page_info": _page_info(page, size, len(rows)), "list": items})


def campaign_object(campaign: SimCampaign, account: SimAccount) -> dict[str, Any]:
    return {
        "campaign_id": campaign.id,
        "campaign_name": campaign.spec.name,
        "advertiser_id": account.account_id,
        "objective_type": campaign.spec.objective or "CONVERSIONS",
        "budget": float(campaign.budget_amount),
        "budget_mode": "BUDGET_MODE_DAY" if campaign.budget_type == "daily" else "BUDGET_MODE_TOTAL",
        "operation_status": "ENABLE" if campaign.status == "active" else "DISABLE",
        "secondary_status": {
            "active": "CAMPAIGN_STATUS_ENABLE",
            "paused": "CAMPAIGN_STATUS_DISABLE",
            "removed": "CAMPAIGN_STATUS_DELETE",
        }[campaign.status],
    }


def update(state: SimState, body: dict[str, Any]) -> Response:
    account = state.account("tiktok", str(body.get("advertiser_id", "")))
    if account is None:
        return envelope(40001, "No permission to operate advertiser.")
    campaign = account.campaigns.get(str(body.get("campaign_id", "")))
    if campaign is None:
        return envelope(40002, "campaign_id: campaign does not exist.")
    if "budget" in body:
        try:
            amount = Decimal(str(body["budget"]))
        except InvalidOperation:
            return envelope(40002, "budget: invalid value.")
        quantum = Decimal(1).scaleb(-currency_decimals(account.currency))
        if amount <= 0 or amount != amount.quantize(quantum):
            return envelope(40002, "budget: invalid value.")
        state.set_budget(
            campaign, amount.quantize(quantum), campaign.budget_type, source="tiktok_ads campaign/update"
        )
    return ok({"campaign_id": campaign.id})


# -- issue 6 (optimize slice): campaign/status/update/ --------------------------------------------------------------
def update_status(state: SimState, body: dict[str, Any]) -> Response:
    account = state.account("tiktok", str(body.get("advertiser_id", "")))
    if account is None:
        return envelope(40001, "No permission to operate advertiser.")
    operation = body.get("operation_status")
    if operation not in ("ENABLE", "DISABLE"):
        return envelope(40002, "operation_status: must be one of ENABLE, DISABLE, DELETE.")
    ids = [str(i) for i in body.get("campaign_ids") or []]
    campaigns = [account.campaigns.get(i) for i in ids]
    if not ids or any(c is None or c.status == "removed" for c in campaigns):
        return envelope(40002, "campaign_ids: campaign does not exist.")
    for campaign in campaigns:
        assert campaign is not None
        state.set_status(campaign, "active" if operation == "ENABLE" else "paused")
    return ok({"campaign_ids": ids})


async def refresh(request: Request, state: SimState) -> Response:
    body = await request.json()
    if state.take_fault("tiktok", "oauth", kinds=("invalid_grant",)) is not None or not body.get(
        "refresh_token"
    ):
        return envelope(40104, "The refresh token is invalid or has expired.")
    if not body.get("app_id") or not body.get("secret"):
        return envelope(40101, "Invalid app_id or secret.")
    return ok(
        {
            "access_token": f"sim-tiktok-{state.next_id()}",
            "access_token_expire_in": 86400,
            "refresh_token": f"sim-tiktok-refresh-{state.next_id()}",
            "refresh_token_expire_in": 31536000,
        }
    )
