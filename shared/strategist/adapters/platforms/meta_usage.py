"""Meta's rate-limit headers, read on every response so the connector slows down before it is throttled.

All usage values are percentages of the current window; ``estimated_time_to_regain_access`` is in minutes and
non-zero only once the account is already blocked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

USAGE_HEADERS = (
    "x-business-use-case-usage",
    "x-ad-account-usage",
    "x-app-usage",
    "x-fb-ads-insights-throttle",
)
_PERCENT_KEYS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct")


@dataclass(frozen=True)
class MetaUsage:
    #: Highest percentage across all buckets and headers (0 when none were sent).
    max_percent: float
    #: Seconds until a blocked bucket is usable again (0 when nothing is blocked).
    regain_seconds: float
    #: Seconds until the ad-account window resets, when the ad-account header says so.
    reset_seconds: float | None


def _load(raw: str | None) -> object:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _percentages(obj: object) -> list[float]:
    if not isinstance(obj, Mapping):
        return []
    return [float(obj[k]) for k in _PERCENT_KEYS if isinstance(obj.get(k), int | float)]


def read_usage(headers: Mapping[str, str]) -> MetaUsage:
    percents: list[float] = []
    regain_minutes = 0.0
    buc = _load(headers.get("x-business-use-case-usage"))
    if isinstance(buc, Mapping):
        for buckets in buc.values():
            for bucket in buckets if isinstance(buckets, list) else []:
                percents.extend(_percentages(bucket))
                if isinstance(bucket, Mapping):
                    regain = bucket.get("estimated_time_to_regain_access")
                    if isinstance(regain, int | float):
                        regain_minutes = max(regain_minutes, float(regain))
    account = _load(headers.get("x-ad-account-usage"))
    percents.extend(_percentages(account))
    reset = account.get("reset_time_duration") if isinstance(account, Mapping) else None
    percents.extend(_percentages(_load(headers.get("x-app-usage"))))
    percents.extend(_percentages(_load(headers.get("x-fb-ads-insights-throttle"))))
    return MetaUsage(
        max_percent=max(percents, default=0.0),
        regain_seconds=regain_minutes * 60.0,
        reset_seconds=float(reset) if isinstance(reset, int | float) else None,
    )


def pause_for(usage: MetaUsage, *, threshold: float, max_pause: float) -> float:
    """Seconds to wait before the next call.

    Blocked: the platform's own regain estimate. Otherwise a ramp from 0 s at ``threshold`` % to
    ``max_pause`` at 100 %, and at >= 100 % the ad-account reset window if it is longer.
    """
    if usage.regain_seconds > 0:
        return usage.regain_seconds
    if usage.max_percent < threshold:
        return 0.0
    share = min(1.0, (usage.max_percent - threshold) / max(1e-9, 100.0 - threshold))
    pause = share * max_pause
    if usage.max_percent >= 100.0 and usage.reset_seconds:
        pause = max(pause, usage.reset_seconds)
    return pause
