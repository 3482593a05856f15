"""What every connector shares: the port the sync worker calls, and one request path with auth, refresh,
retry.

The request path is the same for all four platforms: send with the current token; if the platform says the
token is expired, refresh it once through its token endpoint, hand the new credentials to the caller's
callback (so they are persisted before anything else can fail) and resend; classify failures into the typed
errors; retry only the transient ones with tenacity, sleeping exactly what the platform asked for when it said
so. Platform modules supply the headers, the error classification and the token call.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from strategist.adapters.platforms.credentials import PlatformCredentials
from strategist.adapters.platforms.errors import (
    ConnectionBrokenError,
    MalformedResponseError,
    PermanentPlatformError,
    PlatformError,
    TokenExpiredError,
    TransientPlatformError,
)
from strategist.domain.changes import SETTABLE_STATUSES, StatusChange
from strategist.domain.metrics import (
    BudgetChange,
    BudgetType,
    CampaignStatus,
    DailyMetric,
    PlatformAccount,
    PlatformCampaign,
)
from strategist.domain.platforms import Platform

log = logging.getLogger(__name__)

#: Called with the full, updated credentials after every successful token refresh; persist them (encrypted).
CredentialsCallback = Callable[[PlatformCredentials], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectorOptions:
    """Tunables; the defaults are what production uses, tests override base URLs, sleep and clock."""

    #: API root, e.g. "https://googleads.googleapis.com" (the simulator's URL in tests and demos).
    base_url: str | None = None
    #: OAuth token endpoint root when it is a different host (Google, LinkedIn); defaults to the platform's.
    auth_base_url: str | None = None
    api_version: str | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = _utcnow
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: A platform-requested wait longer than this is not slept through: the error is raised so the worker can
    #: reschedule (a Lambda cannot wait out a daily quota).
    max_retry_delay: float = 300.0
    timeout: float = 60.0
    #: Meta: start pausing when any usage header reaches this percentage, before the platform throttles.
    usage_threshold: float = 75.0
    usage_max_pause: float = 60.0
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class PlatformConnector(Protocol):
    """The port the sync worker and the budget automation use."""

    platform: Platform

    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]: ...

    def list_campaigns(self) -> list[PlatformCampaign]: ...

    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange: ...

    def test_connection(self) -> PlatformAccount: ...

    # issue 6 (optimize slice): pause / enable a campaign
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange: ...


class BaseConnector(ABC):
    platform: Platform
    default_base_url: ClassVar[str]
    default_auth_base_url: ClassVar[str | None] = None
    default_api_version: ClassVar[str]
    #: Refresh this long before the recorded expiry, so a long backfill does not hit the edge mid-way.
    refresh_skew: ClassVar[timedelta] = timedelta(minutes=5)

    def __init__(
        self,
        credentials: PlatformCredentials,
        *,
        http_client: httpx.Client | None = None,
        options: ConnectorOptions | None = None,
        on_credentials_refreshed: CredentialsCallback | None = None,
    ) -> None:
        self._options = options or ConnectorOptions()
        self._credentials = credentials
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(timeout=self._options.timeout)
        self._on_refreshed = on_credentials_refreshed
        self.base_url = (self._options.base_url or self.default_base_url).rstrip("/")
        self.auth_base_url = (
            self._options.auth_base_url or self.default_auth_base_url or self.base_url
        ).rstrip("/")
        self.api_version = self._options.api_version or self.default_api_version

    # -- public --------------------------------------------------------------------------------------------

    @property
    def credentials(self) -> PlatformCredentials:
        return self._credentials

    @property
    def account_id(self) -> str:
        return self._credentials.account_id

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> BaseConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def fetch_daily_metrics(self, start: date, end: date) -> list[DailyMetric]: ...

    @abstractmethod
    def list_campaigns(self) -> list[PlatformCampaign]: ...

    @abstractmethod
    def update_budget(
        self, campaign_id: str, amount: Decimal, budget_type: BudgetType, *, validate_only: bool = False
    ) -> BudgetChange: ...

    @abstractmethod
    def test_connection(self) -> PlatformAccount: ...

    # issue 6 (optimize slice): pause / enable; each platform connector overrides this with its real request
    def update_status(
        self, campaign_id: str, status: CampaignStatus, *, validate_only: bool = False
    ) -> StatusChange:
        raise PermanentPlatformError(
            f"{self.platform.value} status changes are not supported", platform=self.platform.value
        )

    def _check_settable(self, status: CampaignStatus) -> None:
        if status not in SETTABLE_STATUSES:
            raise PermanentPlatformError(
                f"status {status} cannot be set by automation (only active or paused)",
                platform=self.platform.value,
                code="status_not_settable",
            )

    # -- platform hooks ------------------------------------------------------------------------------------

    @abstractmethod
    def _auth_headers(self) -> dict[str, str]: ...

    @abstractmethod
    def _parse(self, response: httpx.Response) -> Any:
        """Body of a successful response; raises the typed error for anything else."""

    def _can_refresh(self) -> bool:
        return False

    def _refresh_credentials(self) -> PlatformCredentials:
        """Only called when _can_refresh() is True; a platform without a refresh flow must be reconnected."""
        raise ConnectionBrokenError(
            f"{self.platform.value} credentials expired and this platform has no refresh flow; reconnect",
            platform=self.platform.value,
        )

    def _after_response(self, response: httpx.Response) -> None:  # noqa: B027 - optional hook
        """Inspect rate-limit headers on every response (Meta pauses here before it gets throttled)."""

    def _before_request(self) -> None:  # noqa: B027 - optional hook
        """Last chance to wait before a request goes out."""

    def _auth_params(self) -> dict[str, str]:
        """Query parameters every authenticated call carries (Meta's appsecret_proof)."""
        return {}

    # -- request path --------------------------------------------------------------------------------------

    def _error_kwargs(self, response: httpx.Response | None = None, **more: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"platform": self.platform.value, **more}
        if response is not None:
            kwargs["status_code"] = response.status_code
        return kwargs

    def _json(self, response: httpx.Response) -> Any:
        """JSON with floats as Decimal, so 3120.5 never turns into 3120.4999…; a cut-off body is transient."""
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise TransientPlatformError(
                f"unparseable response body (HTTP {response.status_code})", **self._error_kwargs(response)
            ) from exc

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        def attempt() -> Any:
            self._refresh_if_due()
            try:
                return self._send_once(method, url, params, json_body, form, headers)
            except TokenExpiredError as expired:
                self._refresh_or_break(expired)
            try:
                return self._send_once(method, url, params, json_body, form, headers)
            except TokenExpiredError as still:
                raise ConnectionBrokenError(
                    still.message, platform=still.platform, code=still.code
                ) from still

        return self._with_retries(attempt)

    def _send_once(
        self,
        method: str,
        url: str,
        params: Any,
        json_body: Any,
        form: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Any:
        all_headers = {**self._auth_headers(), **(headers or {})}
        auth_params = self._auth_params()
        if auth_params:
            params = [
                *(params.items() if isinstance(params, Mapping) else params or []),
                *auth_params.items(),
            ]
        self._before_request()
        try:
            response = self._http.request(
                method, url, params=params, json=json_body, data=form, headers=all_headers
            )
        except httpx.TimeoutException as exc:
            raise TransientPlatformError(
                f"timeout: {type(exc).__name__}", platform=self.platform.value
            ) from exc
        except httpx.TransportError as exc:
            raise TransientPlatformError(
                f"transport error: {type(exc).__name__}", platform=self.platform.value
            ) from exc
        self._after_response(response)
        return self._parse(response)

    def _with_retries(self, fn: Callable[[], Any]) -> Any:
        opts = self._options

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, TransientPlatformError):
                return False
            return exc.retry_after is None or exc.retry_after <= opts.max_retry_delay

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = getattr(exc, "retry_after", None)
            if hinted is not None:
                return float(hinted)
            return min(opts.backoff_max, opts.backoff_base * 2 ** (state.attempt_number - 1))

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "retrying %s call after %s (attempt %d, waiting %.1fs)",
                self.platform.value,
                exc,
                state.attempt_number,
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            wait=wait,
            stop=stop_after_attempt(opts.max_attempts),
            sleep=opts.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)

    # -- tokens --------------------------------------------------------------------------------------------

    def _refresh_if_due(self) -> None:
        if not self._can_refresh():
            return
        expires_at = self._credentials.expires_at
        if self._credentials.access_token is None or (
            expires_at is not None and self._options.clock() >= expires_at - self.refresh_skew
        ):
            self._refresh()

    def _refresh_or_break(self, expired: TokenExpiredError) -> None:
        if not self._can_refresh():
            raise ConnectionBrokenError(
                expired.message, platform=expired.platform, code=expired.code, status_code=expired.status_code
            ) from expired
        self._refresh()

    def _refresh(self) -> None:
        new_credentials = self._refresh_credentials()
        self._credentials = new_credentials
        log.info("%s access token refreshed for account %s", self.platform.value, self.account_id)
        if self._on_refreshed is not None:
            self._on_refreshed(new_credentials)

    def _token_call(
        self,
        url: str,
        *,
        form: Mapping[str, Any] | None = None,
        json_body: Any = None,
        method: str = "POST",
        params: Mapping[str, Any] | None = None,
    ) -> tuple[httpx.Response, Any]:
        """One call to a token endpoint (no bearer header); transport failures are transient."""
        try:
            response = self._http.request(method, url, data=form, json=json_body, params=params)
        except httpx.TimeoutException as exc:
            raise TransientPlatformError("timeout on token endpoint", platform=self.platform.value) from exc
        except httpx.TransportError as exc:
            raise TransientPlatformError(
                "transport error on token endpoint", platform=self.platform.value
            ) from exc
        if response.status_code >= 500:
            raise TransientPlatformError(
                f"token endpoint HTTP {response.status_code}", **self._error_kwargs(response)
            )
        return response, self._json(response)

    def _expiry(self, expires_in: Any) -> datetime | None:
        if expires_in in (None, "", 0):
            return None
        return self._options.clock() + timedelta(seconds=int(expires_in))


def date_chunks(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """Inclusive [start, end] split into consecutive inclusive windows of at most ``days`` days."""
    if end < start:
        return []
    chunks = []
    cursor = start
    while cursor <= end:
        chunk_end = min(end, cursor + timedelta(days=days - 1))
        chunks.append((cursor, chunk_end))
        cursor = chunk_end + timedelta(days=1)
    return chunks


def require(mapping: Mapping[str, Any], key: str, *, platform: Platform, where: str) -> Any:
    """A documented field, or a MalformedResponseError naming what was missing."""
    try:
        return mapping[key]
    except (KeyError, TypeError) as exc:
        raise MalformedResponseError(f"missing {key!r} in {where}", platform=platform.value) from exc


__all__ = [
    "BaseConnector",
    "ConnectorOptions",
    "CredentialsCallback",
    "PlatformConnector",
    "PlatformError",
    "date_chunks",
    "require",
]
