"""Meta Marketing API (Graph API): campaign-level insights, sync or as async report runs, and CBO budgets.

Conversions are the chosen action type(s) summed over the requested attribution windows only (default
``purchase`` under 7d_click + 1d_view), never ``purchase`` plus ``offsite_conversion.fb_pixel_purchase``: the
former already contains the latter. Budgets are integers in Meta's per-currency offset (100 for USD, 1 for
JPY).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from strategist.adapters.platforms.base import BaseConnector, date_chunks, require
from strategist.adapters.platforms.credentials import MetaCredentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    MalformedResponseError,
    PermanentPlatformError,
    RateLimitedError,
    TokenExpiredError,
    TransientPlatformError,
)
from strategist.adapters.platforms.meta_usage import pause_for, read_usage
from strategist.domain.changes import StatusChange
from strategist.domain.metrics import (
    Budget,
    BudgetChange,
    BudgetType,
    CampaignStatus,
    DailyMetric,
    PlatformAccount,
    PlatformCampaign,
)
from strategist.domain.money import from_meta_minor, normalize_currency, to_decimal, to_meta_minor
from strategist.domain.platforms import Platform

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TOKEN_CODES = frozenset({102, 190})
#: Insights queries too big for the synchronous endpoint: switch to an async report run.
QUERY_TIMEOUT_SUBCODES = frozenset({1504018, 1504038})
_STATUS = {
    "ACTIVE": CampaignStatus.ACTIVE,
    "PAUSED": CampaignStatus.PAUSED,
    "DELETED": CampaignStatus.REMOVED,
    "ARCHIVED": CampaignStatus.ENDED,
}


class InsightsQueryTooLargeError(PermanentPlatformError):
    """The synchronous insights call timed out on Meta's side; the same query must go through an async job."""


class MetaAdsConnector(BaseConnector):
    platform = Platform.META_ADS
    default_base_url = "https://graph.facebook.com"
    default_api_version = "v25.0"
    #: Exchange a long-lived user token for a fresh one when it has less than this left.
    refresh_skew = timedelta(days=7)
    #: Ranges longer than this go straight to an async report run.
    async_threshold_days: ClassVar[int] = 31
    async_chunk_days: ClassVar[int] = 92
    page_limit: ClassVar[int] = 500
    max_poll_seconds: ClassVar[float] = 30.0
    max_polls: ClassVar[int] = 120
    max_job_attempts: ClassVar[int] = 3

    _credentials: MetaCredentials

    def __init__(
        self,
        credentials: MetaCredentials,
        *,
        action_types: Sequence[str] = ("purchase",),
        attribution_windows: Sequence[str] = ("7d_click", "1d_view"),
        **kwargs: Any,
    ) -> None:
        if not isinstance(credentials, MetaCredentials):
            raise TypeError("MetaAdsConnector needs MetaCredentials")
        super().__init__(credentials, **kwargs)
        self.action_types = tuple(action_types)
        self.attribution_windows = tuple(attribution_windows)
        self._pause_next = 0.0
        self._account: PlatformAccount | None = None

    @property
    def attribution_label(self) -> str:
        return "_".join(self.attribution_windows)

    # -- auth ----------------------------------------------------------------------------------------------

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._credentials.access_token.get_secret_value()}"}

    def _auth_params(self) -> dict[str, str]:
        secret = self._credentials.app_secret
        if secret is None:
            return {}
        proof = hmac.new(
            secret.get_secret_value().encode(),
            self._credentials.access_token.get_secret_value().encode(),
            hashlib.sha256,
        ).hexdigest()
        return {"appsecret_proof": proof}

    def _can_refresh(self) -> bool:
        creds = self._credentials
        return bool(creds.app_id and creds.app_secret and creds.expires_at is not None)

    def _refresh_credentials(self) -> MetaCredentials:
        """Long-lived token exchange; works only while the current token is valid (hence the 7-day skew)."""
        creds = self._credentials
        assert creds.app_secret is not None
        response, body = self._token_call(
            f"{self.base_url}/{self.api_version}/oauth/access_token",
            method="GET",
            params={
                "grant_type": "fb_exchange_token",
                "client_id": creds.app_id,
                "client_secret": creds.app_secret.get_secret_value(),
                "fb_exchange_token": creds.access_token.get_secret_value(),
            },
        )
        if response.status_code != 200 or "access_token" not in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ConnectionBrokenError(
                error.get("message", f"token exchange failed (HTTP {response.status_code})"),
                **self._error_kwargs(response, code=error.get("code")),
            )
        return creds.with_token(body["access_token"], self._expiry(body.get("expires_in")))

    def _refresh_or_break(self, expired: TokenExpiredError) -> None:
        """A token Meta rejected cannot be exchanged any more: the connection is broken, with its reason."""
        raise ConnectionBrokenError(
            expired.message, platform=expired.platform, code=expired.code, status_code=expired.status_code
        ) from expired

    # -- rate limits and errors ----------------------------------------------------------------------------

    def _before_request(self) -> None:
        pause, self._pause_next = self._pause_next, 0.0
        if pause <= 0:
            return
        if pause > self._options.max_retry_delay:
            raise RateLimitedError(
                "usage headers say the account is blocked", retry_after=pause, platform=self.platform.value
            )
        self._options.sleep(pause)

    def _after_response(self, response: httpx.Response) -> None:
        usage = read_usage(response.headers)
        self._pause_next = pause_for(
            usage, threshold=self._options.usage_threshold, max_pause=self._options.usage_max_pause
        )

    def _parse(self, response: httpx.Response) -> Any:
        try:
            body = self._json(response)
        except TransientPlatformError:
            if response.status_code < 400 or response.status_code >= 500:
                raise
            raise PermanentPlatformError(
                f"HTTP {response.status_code}", **self._error_kwargs(response)
            ) from None
        if response.status_code < 400 and not (isinstance(body, dict) and "error" in body):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            if response.status_code >= 500:
                raise TransientPlatformError(f"HTTP {response.status_code}", **self._error_kwargs(response))
            raise PermanentPlatformError(f"HTTP {response.status_code}", **self._error_kwargs(response))
        code = error.get("code")
        subcode = error.get("error_subcode")
        message = error.get("error_user_msg") or error.get("message", "")
        kwargs = self._error_kwargs(response, code=code, details=error)
        if code in TOKEN_CODES:
            raise TokenExpiredError(message, **kwargs)
        if code in RATE_LIMIT_CODES:
            usage = read_usage(response.headers)
            self._pause_next = 0.0  # the retry waits the regain estimate once; do not pause twice
            raise RateLimitedError(message, retry_after=usage.regain_seconds or None, **kwargs)
        if subcode in QUERY_TIMEOUT_SUBCODES:
            raise InsightsQueryTooLargeError(message, **kwargs)
        if error.get("is_transient") or code in (1, 2) or response.status_code >= 500:
            raise TransientPlatformError(message, **kwargs)
        raise PermanentPlatformError(message, **kwargs)

    # -- helpers -------------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _paged(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Follow ``paging.cursors.after`` only while ``paging.next`` exists ('after' is always present)."""
        rows: list[dict[str, Any]] = []
        query = dict(params)
        while True:
            page = self._request("GET", self._url(path), params=query)
            data = require(page, "data", platform=self.platform, where=path)
            rows.extend(data)
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return rows
            query = {**params, "after": after}

    def account(self) -> PlatformAccount:
        if self._account is None:
            body = self._request(
                "GET", self._url(f"act_{self.account_id}"), params={"fields": "name,currency,timezone_name"}
            )
            self._account = PlatformAccount(
                platform=self.platform,
                account_id=self.account_id,
                name=body.get("name"),
                currency=normalize_currency(
                    require(body, "currency", platform=self.platform, where="ad account")
                ),
                time_zone=require(body, "timezone_name", platform=self.platform, where="ad account"),
            )
        return self._account

    # -- insights ------------------------------------------------------------------------------------------

    def insights_params(self, start: date, end: date) -> dict[str, Any]:
        return {
            "level": "campaign",
            "fields": "account_currency,campaign_id,campaign_name,spend,impressions,clicks,reach,"
            "actions,action_values",
            "time_range": json.dumps(
                {"since": start.isoformat(), "until": end.isoformat()}, separators=(",", ":")
            ),
            "time_increment": "1",
            "action_attribution_windows": json.dumps(list(self.attribution_windows), separators=(",", ":")),
            "limit": str(self.page_limit),
        }

    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]:
        if end < start:
            return []
        account = self.account()
        out: list[DailyMetric] = []
        if (end - start).days + 1 > self.async_threshold_days:
            for chunk_start, chunk_end in date_chunks(start, end, self.async_chunk_days):
                rows = self._insights_async(chunk_start, chunk_end)
                out.extend(self._metric(row, account, "insights(async)") for row in rows)
            return out
        path = f"act_{self.account_id}/insights"
        try:
            rows = self._paged(path, self.insights_params(start, end))
            source = "insights"
        except InsightsQueryTooLargeError:
            rows = self._insights_async(start, end)
            source = "insights(async)"
        return [self._metric(row, account, source) for row in rows]

    def _insights_async(self, start: date, end: date) -> list[dict[str, Any]]:
        params = self.insights_params(start, end)
        last_status = ""
        for _ in range(self.max_job_attempts):
            created = self._request("POST", self._url(f"act_{self.account_id}/insights"), form=params)
            run_id = str(require(created, "report_run_id", platform=self.platform, where="async insights"))
            last_status = self._wait_for_run(run_id)
            if last_status == "Job Completed":
                return self._paged(f"{run_id}/insights", {"limit": str(self.page_limit)})
        raise TransientPlatformError(
            f"async insights report ended with {last_status!r} {self.max_job_attempts} times",
            platform=self.platform.value,
        )

    def _wait_for_run(self, run_id: str) -> str:
        delay = 1.0
        for _ in range(self.max_polls):
            run = self._request("GET", self._url(run_id))
            status = run.get("async_status", "")
            if status == "Job Completed" and int(run.get("async_percent_completion", 100)) >= 100:
                return status
            if status in ("Job Failed", "Job Skipped"):
                return status
            self._options.sleep(delay)
            delay = min(self.max_poll_seconds, delay * 2)
        raise TransientPlatformError(f"async report {run_id} did not finish", platform=self.platform.value)

    def _window_sum(self, entries: list[dict[str, Any]] | None) -> tuple[Decimal, dict[str, str]]:
        total = Decimal(0)
        by_window: dict[str, Decimal] = {}
        for entry in entries or []:
            if entry.get("action_type") not in self.action_types:
                continue
            windows = [w for w in self.attribution_windows if w in entry]
            if windows:
                for window in windows:
                    value = to_decimal(entry[window])
                    by_window[window] = by_window.get(window, Decimal(0)) + value
                    total += value
            else:
                total += to_decimal(entry.get("value", 0))
        return total, {k: str(v) for k, v in by_window.items()}

    def _metric(self, row: dict[str, Any], account: PlatformAccount, endpoint: str) -> DailyMetric:
        where = "insights row"
        conversions, conversions_by_window = self._window_sum(row.get("actions"))
        value, value_by_window = self._window_sum(row.get("action_values"))
        reach = row.get("reach")
        return DailyMetric(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(require(row, "campaign_id", platform=self.platform, where=where)),
            campaign_name=row.get("campaign_name"),
            date=date.fromisoformat(require(row, "date_start", platform=self.platform, where=where)),
            currency=normalize_currency(row.get("account_currency") or account.currency),
            cost=to_decimal(row.get("spend", "0")),
            impressions=int(row.get("impressions", 0)),
            clicks=int(row.get("clicks", 0)),
            conversions=conversions,
            conversion_value=value,
            reach=int(reach) if reach not in (None, "") else None,
            time_zone=account.time_zone,
            attribution_window=self.attribution_label,
            source=f"meta_ads/{self.api_version}/{endpoint}",
            extra={
                "action_types": list(self.action_types),
                "conversions_by_window": conversions_by_window,
                "conversion_value_by_window": value_by_window,
            },
        )

    # -- campaigns and budgets -----------------------------------------------------------------------------

    _CAMPAIGN_FIELDS = "id,name,status,effective_status,objective,daily_budget,lifetime_budget,bid_strategy"

    def list_campaigns(self) -> list[PlatformCampaign]:
        currency = self.account().currency
        rows = self._paged(
            f"act_{self.account_id}/campaigns",
            {"fields": self._CAMPAIGN_FIELDS, "limit": str(self.page_limit)},
        )
        return [self._campaign(row, currency) for row in rows]

    def _campaign(self, row: dict[str, Any], currency: str) -> PlatformCampaign:
        raw_status = row.get("effective_status") or row.get("status") or "UNKNOWN"
        budget = None
        if row.get("daily_budget") not in (None, "", "0"):
            budget = Budget(from_meta_minor(row["daily_budget"], currency), BudgetType.DAILY, currency)
        elif row.get("lifetime_budget") not in (None, "", "0"):
            budget = Budget(from_meta_minor(row["lifetime_budget"], currency), BudgetType.LIFETIME, currency)
        return PlatformCampaign(
            platform=self.platform,
            account_id=self.account_id,
            id=str(row["id"]),
            name=row.get("name", ""),
            status=_STATUS.get(str(row.get("status", "")), CampaignStatus.OTHER),
            raw_status=raw_status,
            objective=row.get("objective"),
            budget=budget,
            extra={"bid_strategy": row.get("bid_strategy")},
        )

    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange:
        currency = self.account().currency
        current = self._campaign(
            self._request("GET", self._url(campaign_id), params={"fields": self._CAMPAIGN_FIELDS}), currency
        )
        if current.budget is None:
            raise PermanentPlatformError(
                f"campaign {campaign_id} has no campaign budget (budgets live on its ad sets)",
                platform=self.platform.value,
                code="adset_budgets",
            )
        if current.budget.budget_type is not budget_type:
            raise PermanentPlatformError(
                f"campaign {campaign_id} has a {current.budget.budget_type} budget, not {budget_type}",
                platform=self.platform.value,
                code="budget_type_mismatch",
            )
        field_name = "daily_budget" if budget_type is BudgetType.DAILY else "lifetime_budget"
        form: dict[str, str] = {field_name: str(to_meta_minor(amount, currency))}
        if validate_only:
            form["execution_options"] = json.dumps(["validate_only"])
        response = self._request("POST", self._url(campaign_id), form=form)
        if not isinstance(response, dict) or response.get("success") is not True:
            raise MalformedResponseError(
                f"unexpected budget update response {response!r}", platform=self.platform.value
            )
        return BudgetChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=campaign_id,
            budget_type=budget_type,
            currency=currency,
            before=current.budget.amount,
            after=amount,
            validate_only=validate_only,
            sent=True,
            request=form,
            response=response,
        )

    # -- issue 6 (optimize slice): pause / enable --------------------------------------------------------------
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange:
        """POST /{campaign_id} with status=ACTIVE|PAUSED; execution_options=["validate_only"] checks only."""
        self._check_settable(status)
        currency = self.account().currency
        current = self._campaign(
            self._request("GET", self._url(campaign_id), params={"fields": self._CAMPAIGN_FIELDS}), currency
        )
        form: dict[str, str] = {"status": "ACTIVE" if status is CampaignStatus.ACTIVE else "PAUSED"}
        if validate_only:
            form["execution_options"] = json.dumps(["validate_only"])
        response = self._request("POST", self._url(campaign_id), form=form)
        if not isinstance(response, dict) or response.get("success") is not True:
            raise MalformedResponseError(
                f"unexpected status update response {response!r}", platform=self.platform.value
            )
        return StatusChange(
            platform=self.platform,
            account_id=self.account_id,
            campaign_id=str(campaign_id),
            before=current.status,
            before_raw=current.raw_status,
            after=status,
            validate_only=validate_only,
            sent=True,
            request=form,
            response=response,
        )

    def test_connection(self) -> PlatformAccount:
        self._account = None
        return self.account()
