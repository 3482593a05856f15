"""LinkedIn Marketing API surface: adAnalytics (Rest.li 2.0 finder), ad accounts, campaigns, OAuth refresh."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from infra.platform_sim.responses import bearer, decode_cursor, delay, encode_cursor, form_data, json_response
from infra.platform_sim.state import SimAccount, SimCampaign, SimState, currency_decimals, money_str

_STATUS = {"active": "ACTIVE", "paused": "PAUSED", "removed": "CANCELED"}
_DATE_RANGE = re.compile(
    r"^\(start:\(year:(\d+),month:(\d+),day:(\d+)\),end:\(year:(\d+),month:(\d+),day:(\d+)\)\)$"
)
#: Responses are cut at this many elements (adAnalytics has no paging).
ELEMENT_CAP = 15_000
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"


def error(status: int, message: str, service_code: int | None = None, code: str | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code is not None:
        body["code"] = code
    return json_response(body, status)


def _raw_params(request: Request) -> dict[str, str]:
    """Query parameters with the Rest.li structure intact (values are unquoted only inside List(...))."""
    out: dict[str, str] = {}
    for part in request.url.query.split("&"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[unquote(key)] = value
    return out


def _urns(value: str | None) -> list[str]:
    if not value or not value.startswith("List(") or not value.endswith(")"):
        return []
    return [unquote(item) for item in value[5:-1].split(",") if item]


async def handle(request: Request, state: SimState, path: str) -> Response:
    if path == "/oauth/v2/accessToken":
        return await refresh(request, state)
    token = bearer(request.headers.get("authorization"))
    fault = state.take_fault(
        "linkedin", path, kinds=("429", "5xx", "timeout", "expired_token", "malformed_page")
    )
    if fault is not None and fault.kind == "expired_token" and token:
        state.expired_tokens.add(token)
    elif fault is not None and fault.kind in ("429", "5xx", "timeout"):
        await delay(fault)
        if fault.kind == "429":
            return error(
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                101,
            )
        if fault.kind == "5xx":
            return error(500, "Internal Server Error")
        return error(504, "Gateway Timeout")
    if not token or token in state.expired_tokens:
        return error(401, "The token used in the request has expired", 65601, "EXPIRED_ACCESS_TOKEN")
    if not request.headers.get("linkedin-version"):
        return error(
            400,
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            code="VERSION_MISSING",
        )
    response = await route(request, state, path)
    if fault is not None and fault.kind == "malformed_page":
        return Response(response.body[: max(1, len(response.body) // 2)], 200, media_type="application/json")
    return response


async def route(request: Request, state: SimState, path: str) -> Response:
    if path == "/rest/adAnalytics":
        return analytics(request, state)
    parts = path.removeprefix("/rest/").split("/")
    if parts[0] != "adAccounts" or len(parts) < 2:
        return error(404, f"No virtual resource found for {path}", code="NOT_FOUND")
    account = state.account("linkedin", parts[1])
    if account is None:
        return error(403, f"Not enough permissions to access: adAccounts {parts[1]}", 100, "ACCESS_DENIED")
    if len(parts) == 2:
        return json_response(
            {
                "id": int(account.account_id),
                "name": account.spec.name,
                "currency": account.currency,
                "status": "ACTIVE",
                "type": "BUSINESS",
                "reference": "urn:li:organization:2414183",
            }
        )
    if parts[2] != "adCampaigns":
        return error(404, f"No virtual resource found for {path}", code="NOT_FOUND")
    if len(parts) == 3:
        campaigns = list(account.campaigns.values())
        size = min(1000, int(request.query_params.get("pageSize", "100")))
        offset = decode_cursor(request.query_params.get("pageToken"))
        page = campaigns[offset : offset + size]
        body: dict[str, Any] = {"elements": [campaign_object(c, account) for c in page], "metadata": {}}
        if offset + size < len(campaigns):
            body["metadata"]["nextPageToken"] = encode_cursor(offset + size)
        return json_response(body)
    campaign = account.campaigns.get(parts[3])
    if campaign is None:
        return error(404, f"Campaign {parts[3]} not found", code="NOT_FOUND")
    if request.method == "GET":
        return json_response(campaign_object(campaign, account))
    if request.headers.get("x-restli-method", "").upper() != "PARTIAL_UPDATE":
        return error(
            400, "X-RestLi-Method PARTIAL_UPDATE is required for a partial update", code="INVALID_REQUEST"
        )
    return partial_update(state, campaign, account, await request.json())


def campaign_object(campaign: SimCampaign, account: SimAccount) -> dict[str, Any]:
    money = {"amount": format(campaign.budget_amount.normalize(), "f"), "currencyCode": account.currency}
    return {
        "id": int(campaign.id),
        "name": campaign.spec.name,
        "status": _STATUS[campaign.status],
        "objectiveType": campaign.spec.objective or "WEBSITE_CONVERSION",
        "account": f"urn:li:sponsoredAccount:{account.account_id}",
        "campaignGroup": "urn:li:sponsoredCampaignGroup:7",
        "dailyBudget": money if campaign.budget_type == "daily" else None,
        "totalBudget": money if campaign.budget_type == "lifetime" else None,
    }


def partial_update(
    state: SimState, campaign: SimCampaign, account: SimAccount, body: dict[str, Any]
) -> Response:
    patch = ((body or {}).get("patch") or {}).get("$set") or {}
    if set(patch) == {"status"}:  # issue 6 (optimize slice): ACTIVE / PAUSED
        if patch["status"] not in ("ACTIVE", "PAUSED") or campaign.status == "removed":
            return error(400, f"status {patch['status']} cannot be set", code="INVALID_STATUS")
        state.set_status(campaign, "active" if patch["status"] == "ACTIVE" else "paused")
        return Response(status_code=204)
    key = "dailyBudget" if "dailyBudget" in patch else "totalBudget" if "totalBudget" in patch else None
    if key is None:
        return error(400, "Only dailyBudget/totalBudget patches are simulated", code="INVALID_REQUEST")
    money = patch[key]
    if money.get("currencyCode") != account.currency:
        return error(
            400, f"Currency must be the account currency {account.currency}", code="INVALID_CURRENCY"
        )
    try:
        amount = Decimal(str(money.get("amount")))
    except InvalidOperation:
        return error(400, "amount must be a decimal string", code="INVALID_VALUE")
    if amount <= 0 or amount.as_tuple().exponent < -currency_decimals(account.currency):  # type: ignore[operator]
        return error(400, "amount has an invalid value", code="INVALID_VALUE")
    state.set_budget(
        campaign,
        amount,
        "daily" if key == "dailyBudget" else "lifetime",
        source="linkedin_ads PARTIAL_UPDATE",
    )
    return Response(status_code=204)


def _cost_string(spend: float, currency: str, k: int) -> str:
    """LinkedIn's cost strings sometimes carry binary-float tails ("107.5300000000000335346")."""
    return f"{spend:.19f}" if k % 3 == 1 else money_str(spend, currency)


def analytics(request: Request, state: SimState) -> Response:
    params = _raw_params(request)
    if params.get("q") != "analytics" or params.get("pivot") != "CAMPAIGN":
        return error(400, "The simulator serves q=analytics&pivot=CAMPAIGN", code="INVALID_REQUEST")
    if params.get("timeGranularity") != "DAILY":
        return error(400, "The simulator serves timeGranularity=DAILY", code="INVALID_REQUEST")
    match = _DATE_RANGE.match(unquote(params.get("dateRange", "")))
    if not match:
        return error(400, "Invalid dateRange", code="PARAM_INVALID")
    y1, m1, d1, y2, m2, d2 = (int(g) for g in match.groups())
    start, end = date(y1, m1, d1), date(y2, m2, d2)
    accounts = [urn.removeprefix("urn:li:sponsoredAccount:") for urn in _urns(params.get("accounts"))]
    campaign_filter = [urn.removeprefix(CAMPAIGN_URN) for urn in _urns(params.get("campaigns"))] or None
    fields = (
        unquote(params.get("fields", "")).split(",") if params.get("fields") else ["impressions", "clicks"]
    )
    elements: list[dict[str, Any]] = []
    for account_id in accounts:
        account = state.account("linkedin", account_id)
        if account is None:
            continue  # LinkedIn answers empty when it has no data or no access
        rows = state.rows(account, campaign_filter, start, end)
        for k in range(len(rows)):
            day = rows.dates[k]
            element: dict[str, Any] = {}
            values = {
                "impressions": rows.impressions[k],
                "clicks": rows.clicks[k],
                "costInLocalCurrency": _cost_string(rows.spend[k], account.currency, k),
                "externalWebsiteConversions": int(rows.conversions[k]),
                "oneClickLeads": 0,
                "conversionValueInLocalCurrency": money_str(rows.conversion_value[k], account.currency),
                "videoViews": rows.video_views[k],
                "approximateMemberReach": rows.reach[k],
            }
            for field in fields:
                if field == "dateRange":
                    ymd = {"year": day.year, "month": day.month, "day": day.day}
                    element["dateRange"] = {"start": ymd, "end": dict(ymd)}
                elif field == "pivotValues":
                    element["pivotValues"] = [f"{CAMPAIGN_URN}{rows.campaigns[k].id}"]
                elif field in values:
                    element[field] = values[field]
            elements.append(element)
            if len(elements) >= ELEMENT_CAP:
                break
    return json_response(
        {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements[:ELEMENT_CAP]}
    )


async def refresh(request: Request, state: SimState) -> Response:
    form = await form_data(request)
    bad = {
        "error": "invalid_request",
        "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked",
    }
    if state.take_fault("linkedin", "/oauth", kinds=("invalid_grant",)) is not None:
        return json_response(bad, 400)
    if (
        form.get("grant_type") != "refresh_token"
        or not form.get("refresh_token")
        or not form.get("client_secret")
    ):
        return json_response(bad, 400)
    return json_response(
        {
            "access_token": f"AQVsim{state.next_id()}",
            "expires_in": 5184000,
            "refresh_token": str(form.get("refresh_token")),
            "refresh_token_expires_in": 31536000,
        }
    )
