"""LinkedIn Marketing API: adAnalytics (Rest.li 2.0 finder syntax) and campaign budgets.

adAnalytics has no paging, so long ranges are split by date, and a window whose answer hits the element cap is
split again. Dates are UTC days (LinkedIn does not report in the account's zone). Money is a decimal string in
the account currency; budgets are written as ``{"amount": "150", "currencyCode": "USD"}``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from strategist.adapters.platforms.base import BaseConnector, date_chunks, require
from strategist.adapters.platforms.credentials import LinkedInCredentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    MalformedResponseError,
    PermanentPlatformError,
    RateLimitedError,
    TokenExpiredError,
    TransientPlatformError,
)
from strategist.domain.changes import StatusChange
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
from strategist.domain.money import check_major_precision, minor_unit_exponent, normalize_currency, to_decimal
from strategist.domain.platforms import Platform

_STATUS = {
    "ACTIVE": CampaignStatus.ACTIVE,
    "PAUSED": CampaignStatus.PAUSED,
    "COMPLETED": CampaignStatus.ENDED,
    "ARCHIVED": CampaignStatus.ENDED,
    "CANCELED": CampaignStatus.REMOVED,
    "REMOVED": CampaignStatus.REMOVED,
    "PENDING_DELETION": CampaignStatus.REMOVED,
}
ANALYTICS_FIELDS = (
    "dateRange",
    "pivotValues",
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "oneClickLeads",
    "conversionValueInLocalCurrency",
    "videoViews",
)
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"


def restli_date_range(start: date, end: date) -> str:
    return (
        f"(start:(year:{start.year},month:{start.month},day:{start.day}),"
        f"end:(year:{end.year},month:{end.month},day:{end.day}))"
    )


def _urn_list(urns: list[str]) -> str:
    """Rest.li List(...) with each URN percent-encoded but the structure itself left literal."""
    return "List(" + ",".join(quote(urn, safe="") for urn in urns) + ")"


def _seconds_to_utc_midnight(now: datetime) -> float:
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


class LinkedInAdsConnector(BaseConnector):
    platform = Platform.LINKEDIN_ADS
    default_base_url = "https://api.linkedin.com"
    default_auth_base_url = "https://www.linkedin.com"
    default_api_version = "202608"
    chunk_days: ClassVar[int] = 30
    #: Responses this large may have been cut; the window is split and asked again.
    element_cap: ClassVar[int] = 15_000

    _credentials: LinkedInCredentials

    def __init__(self, credentials: LinkedInCredentials, **kwargs: Any) -> None:
        if not isinstance(credentials, LinkedInCredentials):
            raise TypeError("LinkedInAdsConnector needs LinkedInCredentials")
        super().__init__(credentials, **kwargs)
        self._account: PlatformAccount | None = None

    # -- auth ----------------------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._credentials.access_token.get_secret_value()}",
            "LinkedIn-Version": self.api_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _can_refresh(self) -> bool:
        creds = self._credentials
        return bool(creds.refresh_token and creds.client_id and creds.client_secret)

    def _refresh_credentials(self) -> LinkedInCredentials:
        creds = self._credentials
        assert creds.refresh_token is not None and creds.client_secret is not None
        response, body = self._token_call(
            f"{self.auth_base_url}/oauth/v2/accessToken",
            form={
                "grant_type": "refresh_token",
                "refresh_token": creds.refresh_token.get_secret_value(),
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.get_secret_value(),
            },
        )
        if response.status_code != 200 or "access_token" not in body:
            error = body.get("error", "unknown_error")
            description = body.get("error_description", "")
            raise ConnectionBrokenError(
                f"{error}: {description}".rstrip(": "), **self._error_kwargs(response, code=error)
            )
        return creds.with_token(
            body["access_token"],
            self._expiry(body.get("expires_in")),
            refresh_token=body.get("refresh_token"),
        )

    # -- errors --------------------------------------------------------------------------------------------

    def _parse(self, response: httpx.Response) -> Any:
        if response.status_code == 204:
            return {}
        if response.status_code < 400:
            return self._json(response)
        try:
            body = self._json(response)
        except TransientPlatformError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        status = int(body.get("status", response.status_code))
        message = body.get("message", f"HTTP {response.status_code}")
        kwargs = self._error_kwargs(
            response, code=body.get("serviceErrorCode", body.get("code")), details=body
        )
        if status == 401:
            raise TokenExpiredError(message, **kwargs)
        if status == 429:
            # No Retry-After on LinkedIn; the day limits reset at midnight UTC.
            retry_after = _seconds_to_utc_midnight(self._options.clock()) if "DAY limit" in message else None
            raise RateLimitedError(message, retry_after=retry_after, **kwargs)
        if status >= 500:
            raise TransientPlatformError(message, **kwargs)
        raise PermanentPlatformError(message, **kwargs)

    # -- reads ---------------------------------------------------------------------------------------------

    def account(self) -> PlatformAccount:
        if self._account is None:
            body = self._request("GET", f"{self.base_url}/rest/adAccounts/{self.account_id}")
            self._account = PlatformAccount(
                platform=self.platform,
                account_id=self.account_id,
                name=body.get("name"),
                currency=normalize_currency(
                    require(body, "currency", platform=self.platform, where="adAccount")
                ),
                time_zone="UTC",
            )
        return self._account

    def analytics_url(self, start: date, end: date) -> str:
        account_urn = f"urn:li:sponsoredAccount:{self.account_id}"
        query = "&".join(
            [
                "q=analytics",
                "pivot=CAMPAIGN",
                "timeGranularity=DAILY",
                f"dateRange={restli_date_range(start, end)}",
                f"accounts={_urn_list([account_urn])}",
                f"fields={','.join(ANALYTICS_FIELDS)}",
            ]
        )
        return f"{self.base_url}/rest/adAnalytics?{query}"

    def _analytics(self, start: date, end: date) -> list[dict[str, Any]]:
        body = self._request("GET", self.analytics_url(start, end))
        elements = require(body, "elements", platform=self.platform, where="adAnalytics")
        if len(elements) >= self.element_cap and start < end:
            middle = start + timedelta(days=(end - start).days // 2)
            return self._analytics(start, middle) + self._analytics(middle + timedelta(days=1), end)
        return elements

    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]:
        if end < start:
            return []
        account = self.account()
        names = {c.id: c.name for c in self.list_campaigns()}
        source = f"linkedin_ads/rest/adAnalytics@{self.api_version}"
        out: list[DailyMetric] = []
        for chunk_start, chunk_end in date_chunks(start, end, self.chunk_days):
            for element in self._analytics(chunk_start, chunk_end):
                out.append(self._metric(element, account, names, source))
        return out

    def _metric(
        self, element: dict[str, Any], account: PlatformAccount, names: dict[str, str], source: str
    ) -> DailyMetric:
        where = "adAnalytics element"
        pivot = require(element, "pivotValues", platform=self.platform, where=where)[0]
        campaign_id = pivot.removeprefix(CAMPAIGN_URN)
        start = require(element, "dateRange", platform=self.platform, where=where)["start"]
        website = int(element.get("externalWebsiteConversions", 0))
        leads = int(element.get("oneClickLeads", 0))
        views = element.get("videoViews")
        raw_cost = to_decimal(element.get("costInLocalCurrency", "0"))
        # Cost strings can carry binary-float tails ("107.5300000000000335346"): keep the currency's precision.
        cost = raw_cost.quantize(Decimal(1).scaleb(-minor_unit_exponent(account.currency)))
        extra: dict[str, Any] = {"external_website_conversions": website, "one_click_leads": leads}
        if cost != raw_cost:
            extra["cost_raw"] = str(element["costInLocalCurrency"])
        return DailyMetric(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=campaign_id,
            campaign_name=names.get(campaign_id),
            date=date(start["year"], start["month"], start["day"]),
            currency=account.currency,
            cost=cost,
            impressions=int(element.get("impressions", 0)),
            clicks=int(element.get("clicks", 0)),
            conversions=Decimal(website + leads),
            conversion_value=to_decimal(element.get("conversionValueInLocalCurrency", "0")),
            video_views=int(views) if views is not None else None,
            time_zone="UTC",
            attribution_window=AttributionWindow.LINKEDIN_DEFAULT.value,
            source=source,
            extra=extra,
        )

    def _campaigns_url(self) -> str:
        return f"{self.base_url}/rest/adAccounts/{self.account_id}/adCampaigns"

    def list_campaigns(self) -> list[PlatformCampaign]:
        rows: list[dict[str, Any]] = []
        params: dict[str, str] = {"q": "search", "pageSize": "1000"}
        while True:
            body = self._request("GET", self._campaigns_url(), params=params)
            rows.extend(require(body, "elements", platform=self.platform, where="adCampaigns"))
            token = (body.get("metadata") or {}).get("nextPageToken")
            if not token:
                break
            params = {"q": "search", "pageSize": "1000", "pageToken": token}
        return [self._campaign(row) for row in rows]

    def _campaign(self, row: dict[str, Any]) -> PlatformCampaign:
        raw_status = row.get("status", "UNKNOWN")
        budget = None
        for key, budget_type in (("dailyBudget", BudgetType.DAILY), ("totalBudget", BudgetType.LIFETIME)):
            money = row.get(key)
            if money:
                budget = Budget(
                    to_decimal(money["amount"]), budget_type, normalize_currency(money["currencyCode"])
                )
                break
        return PlatformCampaign(
            platform=self.platform,
            account_id=self.account_id,
            id=str(row["id"]),
            name=row.get("name", ""),
            status=_STATUS.get(raw_status, CampaignStatus.OTHER),
            raw_status=raw_status,
            objective=row.get("objectiveType"),
            budget=budget,
            extra={"campaign_group": row.get("campaignGroup")},
        )

    # -- budget --------------------------------------------------------------------------------------------

    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange:
        """LinkedIn has no validate-only mode: with ``validate_only`` all is checked but nothing is sent."""
        url = f"{self._campaigns_url()}/{campaign_id}"
        current = self._campaign(self._request("GET", url))
        currency = self.account().currency
        if current.budget is not None and current.budget.currency != currency:
            raise MalformedResponseError(
                "campaign budget currency differs from the account's", platform=self.platform.value
            )
        check_major_precision(amount, currency)
        key = "dailyBudget" if budget_type is BudgetType.DAILY else "totalBudget"
        body = {"patch": {"$set": {key: {"amount": format(amount, "f"), "currencyCode": currency}}}}
        before = (
            current.budget.amount if current.budget and current.budget.budget_type is budget_type else None
        )
        if not validate_only:
            self._request("POST", url, json_body=body, headers={"X-RestLi-Method": "PARTIAL_UPDATE"})
        return BudgetChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(campaign_id),
            budget_type=budget_type,
            currency=currency,
            before=before,
            after=amount,
            validate_only=validate_only,
            sent=not validate_only,
            request=body,
        )

    # -- issue 6 (optimize slice): pause / enable --------------------------------------------------------------
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange:
        """PARTIAL_UPDATE of the campaign with ``{"patch": {"$set": {"status": ...}}}``. LinkedIn has no
        validate-only mode: with ``validate_only`` the campaign is read and the patch built, nothing is sent."""
        self._check_settable(status)
        url = f"{self._campaigns_url()}/{campaign_id}"
        current = self._campaign(self._request("GET", url))
        body = {"patch": {"$set": {"status": "ACTIVE" if status is CampaignStatus.ACTIVE else "PAUSED"}}}
        if not validate_only:
            self._request("POST", url, json_body=body, headers={"X-RestLi-Method": "PARTIAL_UPDATE"})
        return StatusChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(campaign_id),
            before=current.status,
            before_raw=current.raw_status,
            after=status,
            validate_only=validate_only,
            sent=not validate_only,
            request=body,
        )

    def test_connection(self) -> PlatformAccount:
        self._account = None
        return self.account()
