"""TikTok API for Business v1.3: report/integrated/get (page/total_page), campaign list and budget update.

Errors arrive as HTTP 200 with a non-zero ``code`` in the envelope, so every body is checked. Metric values
are strings; money is major units of the advertiser currency (budgets are written as a JSON float). The daily
report range is kept to 30 days per request.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from strategist.adapters.platforms.base import BaseConnector, date_chunks, require
from strategist.adapters.platforms.credentials import TikTokCredentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
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

RATE_LIMIT_CODE = 40100
TOKEN_CODES = frozenset({40104, 40105})
REPORT_METRICS = (
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "conversion",
    "total_purchase_value",
    "video_play_actions",
)
_BUDGET_MODES = {"BUDGET_MODE_DAY": BudgetType.DAILY, "BUDGET_MODE_TOTAL": BudgetType.LIFETIME}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class TikTokAdsConnector(BaseConnector):
    platform = Platform.TIKTOK_ADS
    default_base_url = "https://business-api.tiktok.com"
    default_api_version = "v1.3"
    chunk_days: ClassVar[int] = 30
    page_size: ClassVar[int] = 1000

    _credentials: TikTokCredentials

    def __init__(self, credentials: TikTokCredentials, **kwargs: Any) -> None:
        if not isinstance(credentials, TikTokCredentials):
            raise TypeError("TikTokAdsConnector needs TikTokCredentials")
        super().__init__(credentials, **kwargs)
        self._account: PlatformAccount | None = None

    def _url(self, path: str) -> str:
        return f"{self.base_url}/open_api/{self.api_version}/{path.strip('/')}/"

    # -- auth ----------------------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {"Access-Token": self._credentials.access_token.get_secret_value()}

    def _can_refresh(self) -> bool:
        creds = self._credentials
        return bool(creds.refresh_token and creds.app_id and creds.secret)

    def _refresh_credentials(self) -> TikTokCredentials:
        creds = self._credentials
        assert creds.refresh_token is not None and creds.secret is not None
        response, body = self._token_call(
            self._url("oauth2/refresh_token"),
            json_body={
                "app_id": creds.app_id,
                "secret": creds.secret.get_secret_value(),
                "grant_type": "refresh_token",
                "refresh_token": creds.refresh_token.get_secret_value(),
            },
        )
        data = body.get("data") if isinstance(body, dict) else None
        if body.get("code") != 0 or not isinstance(data, dict) or "access_token" not in data:
            raise ConnectionBrokenError(
                body.get("message", f"token refresh failed (HTTP {response.status_code})"),
                **self._error_kwargs(response, code=body.get("code")),
            )
        expires_in = data.get("access_token_expire_in", data.get("expires_in"))
        return creds.with_token(
            data["access_token"], self._expiry(expires_in), refresh_token=data.get("refresh_token")
        )

    # -- envelope ------------------------------------------------------------------------------------------

    def _parse(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            kwargs = self._error_kwargs(response, code=response.status_code)
            if response.status_code == 429:
                raise RateLimitedError(f"HTTP {response.status_code}", **kwargs)
            if response.status_code >= 500:
                raise TransientPlatformError(f"HTTP {response.status_code}", **kwargs)
            raise PermanentPlatformError(f"HTTP {response.status_code}", **kwargs)
        body = self._json(response)
        if not isinstance(body, dict) or "code" not in body:
            raise TransientPlatformError(
                "response without the code/message envelope", **self._error_kwargs(response)
            )
        code = body["code"]
        if code == 0:
            return body.get("data") or {}
        message = body.get("message", "")
        kwargs = self._error_kwargs(response, code=code, details={"request_id": body.get("request_id")})
        if code == RATE_LIMIT_CODE:
            raise RateLimitedError(message, **kwargs)
        if code in TOKEN_CODES:
            raise TokenExpiredError(message, **kwargs)
        if isinstance(code, int) and 50000 <= code < 60000:
            raise TransientPlatformError(message, **kwargs)
        raise PermanentPlatformError(message, **kwargs)

    def _pages(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of a page/total_page endpoint."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            data = self._request(
                "GET", self._url(path), params={**params, "page": page, "page_size": self.page_size}
            )
            rows.extend(data.get("list") or [])
            page_info = require(data, "page_info", platform=self.platform, where=path)
            total_pages = int(page_info.get("total_page", 1))
            if page >= total_pages:
                return rows
            page += 1

    # -- reads ---------------------------------------------------------------------------------------------

    def account(self) -> PlatformAccount:
        if self._account is None:
            data = self._request(
                "GET",
                self._url("advertiser/info"),
                params={
                    "advertiser_ids": _compact([self.account_id]),
                    "fields": _compact(["name", "currency", "timezone", "display_timezone"]),
                },
            )
            info = (data.get("list") or [{}])[0]
            self._account = PlatformAccount(
                platform=self.platform,
                account_id=self.account_id,
                name=info.get("name"),
                currency=normalize_currency(
                    require(info, "currency", platform=self.platform, where="advertiser")
                ),
                time_zone=info.get("display_timezone")
                or require(info, "timezone", platform=self.platform, where="advertiser"),
            )
        return self._account

    def report_params(self, start: date, end: date) -> dict[str, Any]:
        return {
            "advertiser_id": self.account_id,
            "report_type": "BASIC",
            "service_type": "AUCTION",
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": _compact(["campaign_id", "stat_time_day"]),
            "metrics": _compact(list(REPORT_METRICS)),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }

    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]:
        if end < start:
            return []
        account = self.account()
        source = f"tiktok_ads/{self.api_version}/report/integrated/get"
        out: list[DailyMetric] = []
        for chunk_start, chunk_end in date_chunks(start, end, self.chunk_days):
            for row in self._pages("report/integrated/get", self.report_params(chunk_start, chunk_end)):
                out.append(self._metric(row, account, source))
        return out

    def _metric(self, row: dict[str, Any], account: PlatformAccount, source: str) -> DailyMetric:
        where = "report row"
        dims = require(row, "dimensions", platform=self.platform, where=where)
        metrics = require(row, "metrics", platform=self.platform, where=where)
        day = datetime.strptime(
            require(dims, "stat_time_day", platform=self.platform, where=where), "%Y-%m-%d %H:%M:%S"
        )
        views = metrics.get("video_play_actions")
        return DailyMetric(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(require(dims, "campaign_id", platform=self.platform, where=where)),
            campaign_name=metrics.get("campaign_name"),
            date=day.date(),
            currency=account.currency,
            cost=to_decimal(metrics.get("spend", "0")),
            impressions=int(metrics.get("impressions", 0)),
            clicks=int(metrics.get("clicks", 0)),
            conversions=to_decimal(metrics.get("conversion", "0")),
            conversion_value=to_decimal(metrics.get("total_purchase_value", "0")),
            video_views=int(views) if views not in (None, "") else None,
            time_zone=account.time_zone,
            attribution_window=AttributionWindow.TIKTOK_DEFAULT.value,
            source=source,
        )

    def _campaign(self, row: dict[str, Any], currency: str) -> PlatformCampaign:
        raw_status = row.get("secondary_status") or row.get("operation_status") or "UNKNOWN"
        if raw_status == "CAMPAIGN_STATUS_DELETE":
            status = CampaignStatus.REMOVED
        elif row.get("operation_status") == "ENABLE":
            status = CampaignStatus.ACTIVE
        elif row.get("operation_status") == "DISABLE":
            status = CampaignStatus.PAUSED
        else:
            status = CampaignStatus.OTHER
        budget_type = _BUDGET_MODES.get(row.get("budget_mode", ""))
        budget = None
        if budget_type is not None:
            # Budgets come back as JSON floats; keep the currency's precision (15000.0 JPY -> 15000).
            amount = to_decimal(row.get("budget", 0)).quantize(
                Decimal(1).scaleb(-minor_unit_exponent(currency))
            )
            budget = Budget(amount, budget_type, currency)
        return PlatformCampaign(
            platform=self.platform,
            account_id=self.account_id,
            id=str(row["campaign_id"]),
            name=row.get("campaign_name", ""),
            status=status,
            raw_status=raw_status,
            objective=row.get("objective_type"),
            budget=budget,
            extra={"budget_mode": row.get("budget_mode")},
        )

    def list_campaigns(self) -> list[PlatformCampaign]:
        currency = self.account().currency
        rows = self._pages("campaign/get", {"advertiser_id": self.account_id})
        return [self._campaign(row, currency) for row in rows]

    # -- budget --------------------------------------------------------------------------------------------

    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange:
        """TikTok has no dry-run: with ``validate_only`` everything is checked but nothing is sent."""
        currency = self.account().currency
        rows = self._pages(
            "campaign/get",
            {"advertiser_id": self.account_id, "filtering": _compact({"campaign_ids": [str(campaign_id)]})},
        )
        if not rows:
            raise PermanentPlatformError(f"campaign {campaign_id} not found", platform=self.platform.value)
        current = self._campaign(rows[0], currency)
        if current.budget is None or current.budget.budget_type is not budget_type:
            raise PermanentPlatformError(
                f"campaign {campaign_id} budget mode is {current.extra.get('budget_mode')}, "
                f"not {budget_type}",
                platform=self.platform.value,
                code="budget_type_mismatch",
            )
        check_major_precision(amount, currency)
        body = {"advertiser_id": self.account_id, "campaign_id": str(campaign_id), "budget": float(amount)}
        response: dict[str, Any] = {}
        if not validate_only:
            response = self._request("POST", self._url("campaign/update"), json_body=body)
        return BudgetChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(campaign_id),
            budget_type=budget_type,
            currency=currency,
            before=current.budget.amount,
            after=amount,
            validate_only=validate_only,
            sent=not validate_only,
            request=body,
            response=response,
        )

    # -- issue 6 (optimize slice): pause / enable --------------------------------------------------------------
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange:
        """campaign/status/update/ with operation_status ENABLE|DISABLE. TikTok has no dry-run: with
        ``validate_only`` the campaign is looked up and the request built, but nothing is sent."""
        self._check_settable(status)
        currency = self.account().currency
        rows = self._pages(
            "campaign/get",
            {"advertiser_id": self.account_id, "filtering": _compact({"campaign_ids": [str(campaign_id)]})},
        )
        if not rows:
            raise PermanentPlatformError(f"campaign {campaign_id} not found", platform=self.platform.value)
        current = self._campaign(rows[0], currency)
        body = {
            "advertiser_id": self.account_id,
            "campaign_ids": [str(campaign_id)],
            "operation_status": "ENABLE" if status is CampaignStatus.ACTIVE else "DISABLE",
        }
        response: dict[str, Any] = {}
        if not validate_only:
            response = self._request("POST", self._url("campaign/status/update"), json_body=body)
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
            response=response if isinstance(response, dict) else {},
        )

    def test_connection(self) -> PlatformAccount:
        self._account = None
        return self.account()
