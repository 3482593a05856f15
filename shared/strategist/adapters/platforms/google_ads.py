"""Google Ads API over REST (GAQL through googleAds:searchStream / googleAds:search), and YouTube as its VIDEO
slice.

google_ads and youtube_ads read the same customer with complementary channel filters, so a VIDEO campaign is
loaded exactly once, under youtube_ads, with ``metrics.video_trueview_views``. Dates are ``segments.date`` in
the customer's time zone (Google cannot report in another zone); money is int64 micros serialized as strings.
Campaigns are not filtered by status: a campaign removed today still spent last month.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from strategist.adapters.platforms.base import BaseConnector, require
from strategist.adapters.platforms.credentials import GoogleAdsCredentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    MalformedResponseError,
    PermanentPlatformError,
    RateLimitedError,
    TokenExpiredError,
    TransientPlatformError,
)
from strategist.domain.changes import StatusChange, TargetChange
from strategist.domain.metrics import (
    AttributionWindow,
    Budget,
    BudgetChange,
    BudgetType,
    CampaignStatus,
    DailyMetric,
    PlatformAccount,
    PlatformCampaign,
)
from strategist.domain.money import from_micros, normalize_currency, to_decimal, to_micros
from strategist.domain.platforms import Platform

_STATUS = {
    "ENABLED": CampaignStatus.ACTIVE,
    "PAUSED": CampaignStatus.PAUSED,
    "REMOVED": CampaignStatus.REMOVED,
}
_TRANSIENT_STATUSES = {"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "UNKNOWN"}
#: authorizationError codes that mean this connection cannot read the customer any more.
_BROKEN_AUTHZ = {
    "USER_PERMISSION_DENIED",
    "CUSTOMER_NOT_ENABLED",
    "DEVELOPER_TOKEN_NOT_APPROVED",
    "DEVELOPER_TOKEN_PROHIBITED",
    "ACTION_NOT_PERMITTED",
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def parse_duration(value: str | None) -> float | None:
    """Protobuf Duration JSON ("30s", "1.500s") in seconds."""
    if not value:
        return None
    match = _DURATION.match(value)
    return float(match.group(1)) if match else None


def _gaql_date(day: date) -> str:
    return day.isoformat()


class GoogleAdsConnector(BaseConnector):
    platform = Platform.GOOGLE_ADS
    default_base_url = "https://googleads.googleapis.com"
    default_auth_base_url = "https://oauth2.googleapis.com"
    default_api_version = "v25"
    #: GAQL condition selecting the campaigns this platform owns.
    channel_condition: ClassVar[str] = "campaign.advertising_channel_type != 'VIDEO'"
    video_metrics: ClassVar[bool] = False

    _credentials: GoogleAdsCredentials

    def __init__(self, credentials: GoogleAdsCredentials, **kwargs: Any) -> None:
        if not isinstance(credentials, GoogleAdsCredentials):
            raise TypeError("GoogleAdsConnector needs GoogleAdsCredentials")
        super().__init__(credentials, **kwargs)

    # -- auth ----------------------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        creds = self._credentials
        headers = {"developer-token": creds.developer_token.get_secret_value()}
        if creds.access_token is not None:
            headers["Authorization"] = f"Bearer {creds.access_token.get_secret_value()}"
        if creds.login_customer_id:
            headers["login-customer-id"] = creds.login_customer_id
        return headers

    def _can_refresh(self) -> bool:
        return True

    def _refresh_credentials(self) -> GoogleAdsCredentials:
        creds = self._credentials
        response, body = self._token_call(
            f"{self.auth_base_url}/token",
            form={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.get_secret_value(),
                "refresh_token": creds.refresh_token.get_secret_value(),
            },
        )
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            error = body.get("error", "unknown_error") if isinstance(body, dict) else "unknown_error"
            description = body.get("error_description", "") if isinstance(body, dict) else ""
            raise ConnectionBrokenError(
                f"{error}: {description}".rstrip(": "), **self._error_kwargs(response, code=error)
            )
        return creds.with_token(body["access_token"], self._expiry(body.get("expires_in")))

    # -- errors --------------------------------------------------------------------------------------------

    def _parse(self, response: httpx.Response) -> Any:
        if response.status_code < 400:
            body = self._json(response)
            failure = _stream_failure(body)
            if failure is None:
                return body
            self._raise(response, failure)
        try:
            body = self._json(response)
        except TransientPlatformError:
            if response.status_code >= 500 or response.status_code == 429:
                raise
            raise PermanentPlatformError(
                f"HTTP {response.status_code}", **self._error_kwargs(response)
            ) from None
        failure = _stream_failure(body) if isinstance(body, list) else body.get("error")
        self._raise(response, failure or {})

    def _raise(self, response: httpx.Response, error: dict[str, Any]) -> None:
        status = error.get("status", "")
        http_status = error.get("code", response.status_code)
        message = error.get("message", f"HTTP {response.status_code}")
        code = status or str(http_status)
        retry_after: float | None = None
        for detail in error.get("details", []) or []:
            for item in detail.get("errors", []) or []:
                error_code = item.get("errorCode") or {}
                if error_code:
                    kind, value = next(iter(error_code.items()))
                    code = f"{kind}.{value}"
                    message = item.get("message", message)
                    if kind == "authorizationError" and value in _BROKEN_AUTHZ:
                        raise ConnectionBrokenError(message, **self._error_kwargs(response, code=code))
                quota = (item.get("details") or {}).get("quotaErrorDetails") or {}
                retry_after = parse_duration(quota.get("retryDelay")) or retry_after
        kwargs = self._error_kwargs(response, code=code, details=error)
        if http_status == 429 or status == "RESOURCE_EXHAUSTED":
            raise RateLimitedError(message, retry_after=retry_after, **kwargs)
        if http_status == 401 or status == "UNAUTHENTICATED":
            raise TokenExpiredError(message, **kwargs)
        if status in _TRANSIENT_STATUSES or (isinstance(http_status, int) and http_status >= 500):
            raise TransientPlatformError(message, retry_after=retry_after, **kwargs)
        raise PermanentPlatformError(message, **kwargs)

    # -- GAQL ----------------------------------------------------------------------------------------------

    def _customer_url(self, suffix: str) -> str:
        return f"{self.base_url}/{self.api_version}/customers/{self._credentials.customer_id}/{suffix}"

    def search_stream(self, query: str) -> list[dict[str, Any]]:
        """All rows of a GAQL query; the stream is one JSON array of batches of up to 10,000 rows."""
        batches = self._request(
            "POST", self._customer_url("googleAds:searchStream"), json_body={"query": query}
        )
        if not isinstance(batches, list):
            raise MalformedResponseError("searchStream did not return an array", platform=self.platform.value)
        rows: list[dict[str, Any]] = []
        for batch in batches:
            rows.extend(batch.get("results", []))
        return rows

    def search(self, query: str) -> list[dict[str, Any]]:
        """All rows of a GAQL query through paged ``search`` (fixed 10,000-row pages, nextPageToken)."""
        rows: list[dict[str, Any]] = []
        body: dict[str, Any] = {"query": query}
        while True:
            page = self._request("POST", self._customer_url("googleAds:search"), json_body=body)
            rows.extend(page.get("results", []))
            token = page.get("nextPageToken")
            if not token:
                return rows
            body = {"query": query, "pageToken": token}

    # -- port ----------------------------------------------------------------------------------------------

    def metrics_query(self, start: date, end: date) -> str:
        fields = [
            "customer.currency_code",
            "customer.time_zone",
            "campaign.id",
            "campaign.name",
            "campaign.status",
            "campaign.advertising_channel_type",
            "campaign.campaign_budget",
            "segments.date",
            "metrics.impressions",
            "metrics.clicks",
            "metrics.cost_micros",
            "metrics.conversions",
            "metrics.conversions_value",
        ]
        if self.video_metrics:
            fields.append("metrics.video_trueview_views")
        else:
            # issue 7 (competitor analysis): the client's own search impression share. Google fills these for
            # Search campaigns only (other channels leave them unset); "< 10%" arrives as 0.0999 and "> 90%"
            # lost as 0.9001.
            fields.extend(f"metrics.{name}" for name in IMPRESSION_SHARE_METRICS)
        return (
            f"SELECT {', '.join(fields)} FROM campaign "
            f"WHERE segments.date BETWEEN '{_gaql_date(start)}' AND '{_gaql_date(end)}' "
            f"AND {self.channel_condition} ORDER BY segments.date"
        )

    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]:
        if end < start:
            return []
        rows = self.search_stream(self.metrics_query(start, end))
        source = f"{self.platform.value}/{self.api_version}/googleAds:searchStream"
        return [self._metric(row, source) for row in rows]

    def _metric(self, row: dict[str, Any], source: str) -> DailyMetric:
        where = "searchStream row"
        customer = require(row, "customer", platform=self.platform, where=where)
        campaign = require(row, "campaign", platform=self.platform, where=where)
        segments = require(row, "segments", platform=self.platform, where=where)
        metrics = row.get(
            "metrics", {}
        )  # proto3 JSON omits zero-valued fields, so every metric may be absent
        video_views = int(metrics.get("videoTrueviewViews", 0)) if self.video_metrics else None
        return DailyMetric(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(require(campaign, "id", platform=self.platform, where=where)),
            campaign_name=campaign.get("name"),
            date=date.fromisoformat(require(segments, "date", platform=self.platform, where=where)),
            currency=normalize_currency(
                require(customer, "currencyCode", platform=self.platform, where=where)
            ),
            cost=from_micros(metrics.get("costMicros", 0)),
            impressions=int(metrics.get("impressions", 0)),
            clicks=int(metrics.get("clicks", 0)),
            conversions=to_decimal(metrics.get("conversions", 0)),
            conversion_value=to_decimal(metrics.get("conversionsValue", 0)),
            video_views=video_views,
            time_zone=require(customer, "timeZone", platform=self.platform, where=where),
            attribution_window=AttributionWindow.GOOGLE_ADS_DEFAULT.value,
            source=source,
            extra={
                "advertising_channel_type": campaign.get("advertisingChannelType"),
                "campaign_budget": campaign.get("campaignBudget"),
                **impression_shares(metrics),
            },
        )

    _CAMPAIGN_FIELDS = (
        "customer.currency_code, campaign.id, campaign.name, campaign.status, "
        "campaign.advertising_channel_type, campaign_budget.resource_name, campaign_budget.amount_micros, "
        "campaign_budget.total_amount_micros, campaign_budget.period, campaign_budget.explicitly_shared"
    )

    def list_campaigns(self) -> list[PlatformCampaign]:
        rows = self.search(f"SELECT {self._CAMPAIGN_FIELDS} FROM campaign WHERE {self.channel_condition}")
        return [self._campaign(row) for row in rows]

    def _campaign(self, row: dict[str, Any]) -> PlatformCampaign:
        campaign = row["campaign"]
        currency = normalize_currency(row["customer"]["currencyCode"])
        raw_status = campaign.get("status", "UNSPECIFIED")
        return PlatformCampaign(
            platform=self.platform,
            account_id=self.account_id,
            id=str(campaign["id"]),
            name=campaign.get("name", ""),
            status=_STATUS.get(raw_status, CampaignStatus.OTHER),
            raw_status=raw_status,
            objective=campaign.get("advertisingChannelType"),
            budget=_budget(row.get("campaignBudget"), currency),
            extra={
                "explicitly_shared": bool((row.get("campaignBudget") or {}).get("explicitlyShared", False))
            },
        )

    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange:
        campaign_id = str(int(campaign_id))
        rows = self.search(
            f"SELECT {self._CAMPAIGN_FIELDS} FROM campaign WHERE campaign.id = {campaign_id} "
            f"AND {self.channel_condition}"
        )
        if not rows:
            raise PermanentPlatformError(f"campaign {campaign_id} not found", platform=self.platform.value)
        current = self._campaign(rows[0])
        budget_row = rows[0].get("campaignBudget") or {}
        if current.budget is None or not budget_row.get("resourceName"):
            raise PermanentPlatformError(
                f"campaign {campaign_id} has no budget", platform=self.platform.value
            )
        if current.extra.get("explicitly_shared"):
            raise PermanentPlatformError(
                f"campaign {campaign_id} uses a shared budget; changing it would move other campaigns",
                platform=self.platform.value,
                code="shared_budget",
            )
        if current.budget.budget_type is not budget_type:
            raise PermanentPlatformError(
                f"campaign {campaign_id} has a {current.budget.budget_type} budget, not {budget_type}",
                platform=self.platform.value,
                code="budget_type_mismatch",
            )
        micros = to_micros(amount, current.budget.currency)
        field_name, mask = (
            ("amountMicros", "amount_micros")
            if budget_type is BudgetType.DAILY
            else ("totalAmountMicros", "total_amount_micros")
        )
        body = {
            "operations": [
                {
                    "updateMask": mask,
                    "update": {"resourceName": budget_row["resourceName"], field_name: str(micros)},
                }
            ],
            "partialFailure": False,
            "validateOnly": validate_only,
        }
        response = self._request("POST", self._customer_url("campaignBudgets:mutate"), json_body=body)
        return BudgetChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=campaign_id,
            budget_type=budget_type,
            currency=current.budget.currency,
            before=current.budget.amount,
            after=amount,
            validate_only=validate_only,
            sent=True,
            request=body,
            response=response,
        )

    # -- issue 6 (optimize slice): pause / enable --------------------------------------------------------------
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange:
        """campaigns:mutate with an update of ``status`` (ENABLED / PAUSED) and the ``status`` field mask;
        ``validateOnly`` checks the request without applying it."""
        self._check_settable(status)
        campaign_id = str(int(campaign_id))
        rows = self.search(
            f"SELECT {self._CAMPAIGN_FIELDS} FROM campaign WHERE campaign.id = {campaign_id} "
            f"AND {self.channel_condition}"
        )
        if not rows:
            raise PermanentPlatformError(f"campaign {campaign_id} not found", platform=self.platform.value)
        current = self._campaign(rows[0])
        raw = "ENABLED" if status is CampaignStatus.ACTIVE else "PAUSED"
        body = {
            "operations": [
                {
                    "updateMask": "status",
                    "update": {
                        "resourceName": f"customers/{self._credentials.customer_id}/campaigns/{campaign_id}",
                        "status": raw,
                    },
                }
            ],
            "partialFailure": False,
            "validateOnly": validate_only,
        }
        response = self._request("POST", self._customer_url("campaigns:mutate"), json_body=body)
        return StatusChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=campaign_id,
            before=current.status,
            before_raw=current.raw_status,
            after=status,
            validate_only=validate_only,
            sent=True,
            request=body,
            response=response if isinstance(response, dict) else {},
        )

    # -- issue 6 (optimize slice): bid-strategy targets ------------------------------------------------------
    _TARGETS: ClassVar[dict[str, tuple[str, str, str, str]]] = {
        # target -> (the strategy that owns it, its field mask, the JSON object and key)
        "target_cpa": (
            "MAXIMIZE_CONVERSIONS",
            "maximize_conversions.target_cpa_micros",
            "maximizeConversions",
            "targetCpaMicros",
        ),
        "target_roas": (
            "MAXIMIZE_CONVERSION_VALUE",
            "maximize_conversion_value.target_roas",
            "maximizeConversionValue",
            "targetRoas",
        ),
    }

    def update_target(
        self, campaign_id: str, target: str, value: Decimal | None, *, validate_only: bool = False
    ) -> TargetChange:
        """campaigns:mutate of the Maximize Conversions target CPA (micros) or the Maximize Conversion Value target
        ROAS (a ratio); ``None`` clears the target (the field is in the update mask but not in the resource). The
        campaign must already bid with the strategy that owns the target: switching strategies resets learning and
        is never automated."""
        if target not in self._TARGETS:
            raise PermanentPlatformError(f"unknown bid target {target!r}", platform=self.platform.value)
        if value is not None and value <= 0:
            raise PermanentPlatformError(f"{target} must be positive", platform=self.platform.value)
        strategy, mask, outer, key = self._TARGETS[target]
        campaign_id = str(int(campaign_id))
        rows = self.search(
            "SELECT customer.currency_code, campaign.id, campaign.bidding_strategy_type, "
            "campaign.maximize_conversions.target_cpa_micros, campaign.maximize_conversion_value.target_roas "
            f"FROM campaign WHERE campaign.id = {campaign_id} AND {self.channel_condition}"
        )
        if not rows:
            raise PermanentPlatformError(f"campaign {campaign_id} not found", platform=self.platform.value)
        campaign = rows[0]["campaign"]
        currency = normalize_currency(rows[0]["customer"]["currencyCode"])
        current = campaign.get("biddingStrategyType")
        if current != strategy:
            raise PermanentPlatformError(
                f"campaign {campaign_id} bids with {current}, not {strategy}: its {target} cannot be set",
                platform=self.platform.value,
                code="bidding_strategy_mismatch",
            )
        raw_before = (campaign.get(outer) or {}).get(key)
        if target == "target_cpa":
            before = None if raw_before is None else from_micros(raw_before)
            wire: Any = None if value is None else str(to_micros(value, currency))
        else:
            before = None if raw_before is None else Decimal(str(raw_before))
            wire = None if value is None else float(value)
        body = {
            "operations": [
                {
                    "updateMask": mask,
                    "update": {
                        "resourceName": f"customers/{self._credentials.customer_id}/campaigns/{campaign_id}",
                        outer: {} if wire is None else {key: wire},
                    },
                }
            ],
            "partialFailure": False,
            "validateOnly": validate_only,
        }
        response = self._request("POST", self._customer_url("campaigns:mutate"), json_body=body)
        return TargetChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=campaign_id,
            strategy=strategy,
            target=target,
            before=before,
            after=value,
            validate_only=validate_only,
            sent=True,
            request=body,
            response=response if isinstance(response, dict) else {},
        )

    def test_connection(self) -> PlatformAccount:
        rows = self.search(
            "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone "
            "FROM customer"
        )
        if not rows:
            raise MalformedResponseError("customer query returned no row", platform=self.platform.value)
        customer = rows[0]["customer"]
        return PlatformAccount(
            platform=self.platform,
            account_id=self.account_id,
            name=customer.get("descriptiveName"),
            currency=normalize_currency(customer["currencyCode"]),
            time_zone=customer["timeZone"],
        )


class YouTubeAdsConnector(GoogleAdsConnector):
    """YouTube = the Google Ads customer's VIDEO campaigns, with TrueView views."""

    platform = Platform.YOUTUBE_ADS
    channel_condition = "campaign.advertising_channel_type = 'VIDEO'"
    video_metrics = True


def _stream_failure(body: Any) -> dict[str, Any] | None:
    """searchStream reports a mid-stream failure as an ``{"error": ...}`` element of the array."""
    if isinstance(body, list):
        for item in body:
            if isinstance(item, dict) and "error" in item:
                return item["error"]
    return None


def _budget(row: dict[str, Any] | None, currency: str) -> Budget | None:
    if not row:
        return None
    resource = row.get("resourceName")
    if row.get("period") == "CUSTOM_PERIOD" or "totalAmountMicros" in row:
        return Budget(from_micros(row.get("totalAmountMicros", 0)), BudgetType.LIFETIME, currency, resource)
    if "amountMicros" in row:
        return Budget(from_micros(row["amountMicros"]), BudgetType.DAILY, currency, resource)
    return None


# -- issue 7, assistant slice: search impression share -----------------------------------------------------------
#: GAQL metric names (snake_case); the REST answer carries them in camelCase, as doubles in [0, 1].
IMPRESSION_SHARE_METRICS = (
    "search_impression_share",
    "search_rank_lost_impression_share",
    "search_budget_lost_impression_share",
)


def impression_shares(metrics: dict[str, Any]) -> dict[str, Decimal]:
    """The impression-share metrics a row carries (absent for non-Search campaigns), as Decimal fractions."""
    out: dict[str, Decimal] = {}
    for name in IMPRESSION_SHARE_METRICS:
        head, *rest = name.split("_")
        value = metrics.get(head + "".join(part.title() for part in rest))
        if value is not None:
            out[name] = to_decimal(value)
    return out
