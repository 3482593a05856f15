"""Google Ads API REST surface: googleAds:searchStream, googleAds:search, campaignBudgets:mutate, OAuth token."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from infra.platform_sim.responses import (
    bearer,
    decode_cursor,
    delay,
    encode_cursor,
    form_data,
    json_response,
    truncated,
)
from infra.platform_sim.state import SimAccount, SimCampaign, SimState, currency_decimals, money_str

FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"
_STATUS = {"active": "ENABLED", "paused": "PAUSED", "removed": "REMOVED"}
_PATH = re.compile(
    r"^/(?P<version>v\d+)/customers/(?P<cid>\d+)/(?P<method>googleAds:searchStream|googleAds:search|campaignBudgets:mutate|campaigns:mutate)$"
)
_GAQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(r"segments\.date\s+BETWEEN\s+'(\d{4}-\d{2}-\d{2})'\s+AND\s+'(\d{4}-\d{2}-\d{2})'", re.I)
_CONDITION = re.compile(r"^\s*([\w.]+)\s*(!=|=|NOT\s+IN|IN)\s*(.+?)\s*$", re.I)
_INT64 = {
    "id",
    "costMicros",
    "impressions",
    "clicks",
    "amountMicros",
    "totalAmountMicros",
    "videoTrueviewViews",
}
CAMPAIGN_FIELDS = {
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "campaign.advertising_channel_type",
    "campaign.campaign_budget",
    "campaign.resource_name",
}
# issue 6, optimize slice: bidding strategy type and the Maximize Conversions (Value) targets
CAMPAIGN_FIELDS |= {
    "campaign.bidding_strategy_type",
    "campaign.maximize_conversions.target_cpa_micros",
    "campaign.maximize_conversion_value.target_roas",
}
CUSTOMER_FIELDS = {
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
    "customer.resource_name",
}
BUDGET_FIELDS = {
    "campaign_budget.resource_name",
    "campaign_budget.amount_micros",
    "campaign_budget.total_amount_micros",
    "campaign_budget.period",
    "campaign_budget.explicitly_shared",
}
METRIC_FIELDS = {
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
    "metrics.video_trueview_views",
}
# issue 7, assistant slice: search impression share (Search campaigns only; see impression_shares below)
METRIC_FIELDS |= {
    "metrics.search_impression_share",
    "metrics.search_rank_lost_impression_share",
    "metrics.search_budget_lost_impression_share",
}


class GaqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def resource_key(resource: str) -> str:
    return camel(resource)


def error_body(
    status: int, grpc_status: str, message: str, version: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": grpc_status}
    if errors:
        error["details"] = [
            {"@type": FAILURE_TYPE.format(version=version), "errors": errors, "requestId": "simRequest0001"}
        ]
    return {"error": error}


def fault_response(kind: str, version: str, retry_after: float | None) -> Response:
    if kind == "429":
        delay_text = f"{int(retry_after if retry_after is not None else 30)}s"
        return json_response(
            error_body(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                version,
                [
                    {
                        "errorCode": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
                        "message": f"Too many requests. Retry in {delay_text[:-1]} seconds.",
                        "details": {
                            "quotaErrorDetails": {
                                "rateScope": "ACCOUNT",
                                "rateName": "Requests per account",
                                "retryDelay": delay_text,
                            }
                        },
                    }
                ],
            ),
            429,
        )
    if kind == "5xx":
        return json_response(
            error_body(503, "UNAVAILABLE", "The service is currently unavailable.", version), 503
        )
    if kind == "timeout":
        return json_response(
            error_body(
                504, "DEADLINE_EXCEEDED", "The request deadline was exceeded. Please try again.", version
            ),
            504,
        )
    return expired_response(version)


def expired_response(version: str) -> Response:
    return json_response(
        error_body(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
            "other valid authentication credential.",
            version,
            [
                {
                    "errorCode": {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
                    "message": "Oauth token is expired.",
                }
            ],
        ),
        401,
    )


def parse_gaql(query: str) -> dict[str, Any]:
    match = _GAQL.match(query)
    if not match:
        raise GaqlError("queryError.INVALID_QUERY", f"Error in query: {query[:80]}")
    fields = [f.strip() for f in match.group("fields").split(",") if f.strip()]
    resource = match.group("resource").lower()
    where = match.group("where") or ""
    date_range = None
    between = _BETWEEN.search(where)
    if between:
        date_range = (date.fromisoformat(between.group(1)), date.fromisoformat(between.group(2)))
        where = where[: between.start()] + "TRUE" + where[between.end() :]
    conditions = []
    for part in re.split(r"\s+AND\s+", where, flags=re.I):
        if not part.strip() or part.strip().upper() == "TRUE":
            continue
        cond = _CONDITION.match(part)
        if not cond:
            raise GaqlError(
                "queryError.INVALID_VALUE_WITH_BETWEEN_OPERATOR", f"Error in query near: {part.strip()}"
            )
        field, op, raw = cond.group(1), re.sub(r"\s+", " ", cond.group(2).upper()), cond.group(3)
        if op in ("IN", "NOT IN"):
            values = [v.strip().strip("'\"") for v in raw.strip("() ").split(",")]
        else:
            values = [raw.strip().strip("'\"")]
        conditions.append((field, op, values))
    known = CAMPAIGN_FIELDS | CUSTOMER_FIELDS | BUDGET_FIELDS | METRIC_FIELDS | {"segments.date"}
    for field in fields + [c[0] for c in conditions]:
        if field not in known:
            raise GaqlError("queryError.UNRECOGNIZED_FIELD", f"Unrecognized field in the query: '{field}'.")
    if resource not in ("campaign", "customer"):
        raise GaqlError("queryError.INVALID_RESOURCE_NAME", f"Unsupported resource in simulator: {resource}")
    if any(f.startswith("metrics.") for f in fields) and "segments.date" in fields and date_range is None:
        raise GaqlError(
            "queryError.EXPECTED_FILTERS_ON_DATE_RANGE",
            "Filters on segments.date are required when segments.date is selected.",
        )
    return {"fields": fields, "resource": resource, "conditions": conditions, "date_range": date_range}


def _campaign_value(field: str, campaign: SimCampaign, account: SimAccount) -> Any:
    cid = account.account_id
    spec = campaign.spec
    return {
        "campaign.id": spec.id,
        "campaign.name": spec.name,
        "campaign.status": _STATUS[campaign.status],
        "campaign.advertising_channel_type": spec.objective or "SEARCH",
        "campaign.campaign_budget": f"customers/{cid}/campaignBudgets/{spec.id}",
        "campaign.resource_name": f"customers/{cid}/campaigns/{spec.id}",
        "campaign.bidding_strategy_type": campaign.bidding["type"],  # issue 6, optimize slice
    }.get(field)


def _bidding_value(name: str, campaign: SimCampaign) -> Any:
    """issue 6, optimize slice: a target is present only under the strategy that owns it, as in the API."""
    b = campaign.bidding
    if name == "maximize_conversions.target_cpa_micros" and b["type"] == "MAXIMIZE_CONVERSIONS":
        return b["target_cpa_micros"]
    if name == "maximize_conversion_value.target_roas" and b["type"] == "MAXIMIZE_CONVERSION_VALUE":
        return b["target_roas"]
    return None


def _matches(
    conditions: list[tuple[str, str, list[str]]], campaign: SimCampaign, account: SimAccount
) -> bool:
    for field, op, values in conditions:
        value = _campaign_value(field, campaign, account)
        if value is None:
            continue
        hit = str(value) in values
        if (op in ("=", "IN") and not hit) or (op in ("!=", "NOT IN") and hit):
            return False
    return True


def _row(
    fields: list[str],
    account: SimAccount,
    campaign: SimCampaign | None,
    day: date | None = None,
    metrics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    cid = account.account_id
    out: dict[str, Any] = {}

    def put(resource: str, key: str, value: Any) -> None:
        obj = out.setdefault(resource_key(resource), {})
        obj[key] = str(value) if key in _INT64 else value

    for field in fields:
        resource, name = field.split(".", 1)
        key = camel(name)
        if resource == "customer":
            put("customer", "resourceName", f"customers/{cid}")
            value = {
                "id": cid,
                "descriptive_name": account.spec.name,
                "currency_code": account.currency,
                "time_zone": account.spec.time_zone,
                "resource_name": f"customers/{cid}",
            }[name]
            put("customer", key, value)
        elif resource == "campaign" and campaign is not None and "." in name:  # issue 6: nested targets
            put("campaign", "resourceName", f"customers/{cid}/campaigns/{campaign.id}")
            outer, inner = name.split(".", 1)
            value = _bidding_value(name, campaign)
            if value is not None:
                nested = out["campaign"].setdefault(camel(outer), {})
                nested[camel(inner)] = str(value) if inner.endswith("_micros") else value
        elif resource == "campaign" and campaign is not None:
            put("campaign", "resourceName", f"customers/{cid}/campaigns/{campaign.id}")
            put("campaign", key, _campaign_value(field, campaign, account))
        elif resource == "campaign_budget" and campaign is not None:
            put("campaign_budget", "resourceName", f"customers/{cid}/campaignBudgets/{campaign.id}")
            micros = int(campaign.budget_amount * 1_000_000)
            lifetime = campaign.budget_type == "lifetime"
            if (name == "amount_micros" and not lifetime) or (name == "total_amount_micros" and lifetime):
                put("campaign_budget", key, micros)
            elif name == "period":
                put("campaign_budget", key, "CUSTOM_PERIOD" if lifetime else "DAILY")
            elif name == "explicitly_shared":
                put("campaign_budget", key, False)
        elif resource == "segments" and day is not None:
            put("segments", key, day.isoformat())
        elif resource == "metrics" and metrics is not None:
            put("metrics", key, metrics[name])
    return out


def _field_mask(fields: list[str]) -> str:
    return ",".join(f"{r}.{camel(n)}" for r, n in (f.split(".", 1) for f in fields))


def run_query(state: SimState, account: SimAccount, query: dict[str, Any]) -> list[dict[str, Any]]:
    fields = query["fields"]
    if query["resource"] == "customer":
        return [_row(fields, account, None)]
    campaigns = [c for c in account.campaigns.values() if _matches(query["conditions"], c, account)]
    if "segments.date" not in fields and query["date_range"] is None:
        return [_row(fields, account, c) for c in campaigns]
    start, end = query["date_range"]
    rows = state.rows(account, [c.id for c in campaigns], start, end)
    money = currency_decimals(account.currency)
    static_fields = [f for f in fields if not f.startswith(("metrics.", "segments."))]
    metric_fields = [
        (camel(f.split(".", 1)[1]), f.split(".", 1)[1]) for f in fields if f.startswith("metrics.")
    ]
    with_date = "segments.date" in fields
    # Resource parts do not change from day to day: build them once per campaign (json.dumps shares them).
    static = {c.id: _row(static_fields, account, c) for c in campaigns}
    out = []
    for k in range(len(rows)):
        spend = money_str(rows.spend[k], account.currency)
        values = {
            "impressions": str(rows.impressions[k]),
            "clicks": str(rows.clicks[k]),
            "cost_micros": str(int(Decimal(spend).scaleb(6))),
            "conversions": rows.conversions[k],
            "conversions_value": round(rows.conversion_value[k], money),
            "video_trueview_views": str(rows.video_views[k]),
            **impression_shares(rows.campaigns[k], rows.spend[k]),
        }
        row = dict(static[rows.campaigns[k].id])
        if with_date:
            row["segments"] = {"date": rows.dates[k].isoformat()}
        if metric_fields:
            # proto3 JSON leaves unset metrics out (impression share of a non-Search campaign)
            row["metrics"] = {key: values[name] for key, name in metric_fields if name in values}
        out.append(row)
    return out


async def handle(request: Request, state: SimState, path: str) -> Response:
    if path == "/token":
        return await token(request, state)
    match = _PATH.match(path)
    if not match or request.method != "POST":
        return json_response(error_body(404, "NOT_FOUND", f"Method not found: {path}", "v25"), 404)
    version, cid, method = match.group("version"), match.group("cid"), match.group("method")
    token_value = bearer(request.headers.get("authorization"))
    fault = state.take_fault(
        "google", path, kinds=("429", "5xx", "timeout", "expired_token", "malformed_page")
    )
    if fault is not None and fault.kind == "expired_token" and token_value:
        state.expired_tokens.add(token_value)
    elif fault is not None and fault.kind != "malformed_page":
        await delay(fault)
        return fault_response(fault.kind, version, fault.retry_after_seconds)
    if token_value is None or token_value in state.expired_tokens:
        return expired_response(version)
    if not request.headers.get("developer-token"):
        return json_response(
            error_body(400, "INVALID_ARGUMENT", "The developer token is missing from the request.", version),
            400,
        )
    account = state.account("google", cid)
    if account is None:
        return json_response(
            error_body(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                version,
                [
                    {
                        "errorCode": {"authorizationError": "USER_PERMISSION_DENIED"},
                        "message": "User doesn't have permission to access customer.",
                    }
                ],
            ),
            403,
        )
    body = await request.json()
    if method == "campaignBudgets:mutate":
        return mutate_budgets(state, account, body, version)
    if method == "campaigns:mutate":  # issue 6 (optimize slice): status writes
        return mutate_campaigns(state, account, body, version)
    try:
        query = parse_gaql(body.get("query", ""))
    except GaqlError as exc:
        kind, value = exc.code.split(".")
        return json_response(
            error_body(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                version,
                [{"errorCode": {kind: value}, "message": str(exc)}],
            ),
            400,
        )
    rows = run_query(state, account, query)
    mask = _field_mask(query["fields"])
    size = state.google_page_size
    if method == "googleAds:searchStream":
        batches = [
            {
                "results": rows[i : i + size],
                "fieldMask": mask,
                "requestId": f"simStream{i // size:04d}",
                "queryResourceConsumption": str(max(1, len(rows[i : i + size]) // 10)),
            }
            for i in range(0, len(rows), size)
        ] or [{"results": [], "fieldMask": mask, "requestId": "simStream0000"}]
        if fault is not None:
            return truncated(batches)
        return json_response(batches)
    offset = decode_cursor(body.get("pageToken"))
    if offset < 0 or offset > len(rows):
        return json_response(
            error_body(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                version,
                [{"errorCode": {"requestError": "INVALID_PAGE_TOKEN"}, "message": "Page token is invalid."}],
            ),
            400,
        )
    page: dict[str, Any] = {"results": rows[offset : offset + size]}
    if offset + size < len(rows):
        page["nextPageToken"] = encode_cursor(offset + size)
    page.update(
        {
            "totalResultsCount": str(len(rows)),
            "fieldMask": mask,
            "requestId": "simSearch0001",
            "queryResourceConsumption": str(max(1, len(page["results"]) // 10)),
        }
    )
    if fault is not None:
        return truncated(page)
    return json_response(page)


def mutate_budgets(state: SimState, account: SimAccount, body: dict[str, Any], version: str) -> Response:
    cid = account.account_id
    results = []
    applied: list[tuple[SimCampaign, Decimal, str]] = []
    for op in body.get("operations", []):
        update = op.get("update") or {}
        mask = {camel(p.strip()) for p in str(op.get("updateMask", "")).split(",") if p.strip()}
        resource = str(update.get("resourceName", ""))
        prefix = f"customers/{cid}/campaignBudgets/"
        campaign = (
            account.campaigns.get(resource.removeprefix(prefix)) if resource.startswith(prefix) else None
        )
        if campaign is None:
            return json_response(
                error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "Request contains an invalid argument.",
                    version,
                    [
                        {
                            "errorCode": {"mutateError": "RESOURCE_NOT_FOUND"},
                            "message": "Resource was not found.",
                        }
                    ],
                ),
                400,
            )
        field = "totalAmountMicros" if campaign.budget_type == "lifetime" else "amountMicros"
        if mask != {field} or field not in update:
            return json_response(
                error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "Request contains an invalid argument.",
                    version,
                    [
                        {
                            "errorCode": {"fieldMaskError": "FIELD_NOT_FOUND"},
                            "message": f"The field mask must name {field} for this budget.",
                        }
                    ],
                ),
                400,
            )
        micros = int(update[field])
        unit = 10 ** (6 - currency_decimals(account.currency))
        if micros <= 0 or micros % unit:
            return json_response(
                error_body(
                    400,
                    "INVALID_ARGUMENT",
                    "Request contains an invalid argument.",
                    version,
                    [
                        {
                            "errorCode": {"currencyError": "VALUE_NOT_MULTIPLE_OF_BILLABLE_UNIT"},
                            "message": "Value is not a multiple of the billable unit.",
                        }
                    ],
                ),
                400,
            )
        applied.append((campaign, Decimal(micros).scaleb(-6), campaign.budget_type))
        results.append({"resourceName": resource})
    if body.get("validateOnly"):
        return json_response({})
    for campaign, amount, budget_type in applied:
        state.set_budget(
            campaign,
            amount.normalize() if amount == amount.to_integral() else amount,
            budget_type,
            source="google_ads campaignBudgets:mutate",
        )
    return json_response({"results": results})


# -- issue 6 (optimize slice): campaigns:mutate with an update of status (ENABLED / PAUSED) ----------------------
_SETTABLE_STATUS = {"ENABLED": "active", "PAUSED": "paused"}


def mutate_campaigns(state: SimState, account: SimAccount, body: dict[str, Any], version: str) -> Response:
    def invalid(kind: str, code: str, message: str) -> Response:
        return json_response(
            error_body(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                version,
                [{"errorCode": {kind: code}, "message": message}],
            ),
            400,
        )

    prefix = f"customers/{account.account_id}/campaigns/"
    applied: list[tuple[SimCampaign, str]] = []
    targets: list[tuple[SimCampaign, str, Any]] = []
    results = []
    for op in body.get("operations", []):
        update = op.get("update") or {}
        mask = {camel(p.strip()) for p in str(op.get("updateMask", "")).split(",") if p.strip()}
        resource = str(update.get("resourceName", ""))
        campaign = (
            account.campaigns.get(resource.removeprefix(prefix)) if resource.startswith(prefix) else None
        )
        if campaign is None:
            return invalid("mutateError", "RESOURCE_NOT_FOUND", "Resource was not found.")
        raw_mask = {p.strip() for p in str(op.get("updateMask", "")).split(",") if p.strip()}
        if raw_mask in (
            {"maximize_conversions.target_cpa_micros"},
            {"maximize_conversion_value.target_roas"},
        ):
            strategy, key = (
                ("MAXIMIZE_CONVERSIONS", "targetCpaMicros")
                if "maximize_conversions.target_cpa_micros" in raw_mask
                else ("MAXIMIZE_CONVERSION_VALUE", "targetRoas")
            )
            outer = "maximizeConversions" if key == "targetCpaMicros" else "maximizeConversionValue"
            raw = (update.get(outer) or {}).get(key)
            if campaign.bidding["type"] != strategy:
                return invalid(
                    "biddingError",
                    "BIDDING_STRATEGY_AND_BUDGET_MUST_BE_ALIGNED",
                    f"The campaign bids with {campaign.bidding['type']}, not {strategy}.",
                )
            try:
                value = None if raw is None else int(raw) if key == "targetCpaMicros" else float(raw)
            except (TypeError, ValueError):
                return invalid("fieldError", "INVALID_VALUE", f"{outer}.{key} is not a number.")
            if value is not None and value <= 0:
                return invalid("rangeError", "TOO_LOW", f"{outer}.{key} must be positive.")
            targets.append(
                (campaign, "target_cpa_micros" if key == "targetCpaMicros" else "target_roas", value)
            )
            results.append({"resourceName": resource})
            continue
        if mask != {"status"} or "status" not in update:
            return invalid("fieldMaskError", "FIELD_NOT_FOUND", "Only status and bid targets are simulated.")
        if update["status"] not in _SETTABLE_STATUS or campaign.status == "removed":
            return invalid("campaignError", "INVALID_STATUS", f"Cannot set status {update['status']}.")
        applied.append((campaign, _SETTABLE_STATUS[update["status"]]))
        results.append({"resourceName": resource})
    if body.get("validateOnly"):
        return json_response({})
    for campaign, status in applied:
        state.set_status(campaign, status)
    for campaign, name, value in targets:
        campaign.bidding = {**campaign.bidding, name: value}
    return json_response({"results": results})


async def token(request: Request, state: SimState) -> Response:
    form = await form_data(request)
    if state.take_fault("google", "/token", kinds=("invalid_grant",)) is not None or not form.get(
        "refresh_token"
    ):
        return json_response(
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400
        )
    if form.get("grant_type") != "refresh_token":
        return json_response(
            {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, 400
        )
    return json_response(
        {
            "access_token": f"ya29.sim-google-{state.next_id()}",
            "expires_in": 3599,
            "scope": "https://www.googleapis.com/auth/adwords",
            "token_type": "Bearer",
        }
    )


# -- issue 7, assistant slice: search impression share -----------------------------------------------------------
def impression_shares(campaign: SimCampaign, spend: float) -> dict[str, float]:
    """Search impression share of a Search campaign's day. The share lost to rank is fixed per campaign (from its
    hash: 10-35 %, standing for quality and bids); of the rest, the share won grows with spend as spend / (spend +
    half_saturation), the remainder being lost to budget, so share + lost(rank) + lost(budget) = 1 before Google's
    reporting bounds: a share under 10 % reads 0.0999 and a loss over 90 % reads 0.9001. Other channels: none."""
    if (campaign.spec.objective or "SEARCH") != "SEARCH":
        return {}
    rank_lost = 0.10 + 0.25 * ((campaign.hash >> 16) % 1000) / 1000
    half = campaign.spec.curve.half_saturation
    won = (1.0 - rank_lost) * spend / (spend + half) if spend > 0 else 0.0
    budget_lost = 1.0 - rank_lost - won
    return {
        "search_impression_share": max(round(won, 4), 0.0999),
        "search_rank_lost_impression_share": min(round(rank_lost, 4), 0.9001),
        "search_budget_lost_impression_share": min(round(budget_lost, 4), 0.9001),
    }
