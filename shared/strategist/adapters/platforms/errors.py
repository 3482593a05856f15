"""Typed platform failures, so the sync worker can decide: retry, reschedule, mark broken, or give up."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Any failure reported by (or while talking to) an ad platform, with the platform's own code and text."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        code: str | int | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.code = code
        self.status_code = status_code
        self.details = details or {}

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code is not None else ""
        return f"{self.platform}{code}: {self.message}"


class TransientPlatformError(PlatformError):
    """Worth retrying: 5xx, timeouts, truncated pages, errors the platform flags as transient."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(TransientPlatformError):
    """Throttled. ``retry_after`` (seconds) is the platform's own hint when it gives one."""


class PermanentPlatformError(PlatformError):
    """Will fail the same way again (bad query, invalid budget, unknown campaign): never retried."""


class MalformedResponseError(PermanentPlatformError):
    """The platform answered 200 with a body that does not have the documented shape."""


class ConnectionBrokenError(PlatformError):
    """The stored credentials no longer work and could not be refreshed; the agency must reconnect.

    ``reason`` is the platform's own explanation, shown to the agency verbatim.
    """

    def __init__(self, reason: str, **kwargs: Any) -> None:
        super().__init__(reason, **kwargs)
        self.reason = reason


class TokenExpiredError(PlatformError):
    """The access token was rejected as expired/invalid; the connector refreshes once and retries."""
