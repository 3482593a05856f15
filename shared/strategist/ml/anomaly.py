"""Robust anomaly detection on daily metric series (cost, impressions, clicks, conversions).

Each day is judged against a baseline built only from the days before it (alerts must not move when tomorrow
arrives): a trailing median level plus a day-of-week effect, on the log scale because marketing series are
multiplicative, with a MAD-based spread so one bad day does not widen the band for a month. Holidays are
excluded from the baseline and reported but never alerted on: a Black Friday spike is not news.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["detect_anomalies"]

MAD_TO_SD = 1.4826


def detect_anomalies(
    series: pd.Series,
    *,
    holidays: Iterable[date | str | pd.Timestamp] = (),
    window: int = 28,
    weekly: bool = True,
    threshold: float = 3.5,
    min_history: int = 14,
) -> pd.DataFrame:
    """Flag days whose value leaves the seasonal baseline by more than ``threshold`` robust sds.

    ``series`` is indexed by day (gaps allowed; they are re-indexed as missing). Returns one row per day with
    ``value``, ``expected``, ``lower``, ``upper``, ``score``, ``holiday``, ``is_anomaly`` and ``direction``.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        series = series.copy()
        series.index = pd.DatetimeIndex(pd.to_datetime(series.index))
    series = series.sort_index().asfreq("D")
    values = series.to_numpy(dtype=float)
    if np.nanmin(values, initial=0.0) < 0:
        raise ValueError("metric series must be non-negative (counts or amounts)")
    hol = pd.DatetimeIndex(pd.to_datetime(list(holidays))).normalize() if holidays else pd.DatetimeIndex([])
    is_holiday = series.index.normalize().isin(hol)

    z = pd.Series(np.log1p(values), index=series.index)
    clean = z.where(~is_holiday)
    level = clean.rolling(window, min_periods=min(min_history, window)).median().shift(1)
    resid = clean - level
    season = pd.Series(0.0, index=series.index, dtype=float)
    if weekly:
        dow = series.index.day_of_week
        for d in range(7):
            mask = dow == d
            past = resid[mask].rolling(8, min_periods=2).median().shift(1)
            season[mask] = past.to_numpy()
    expected = level + season
    spread = (clean - expected).abs().rolling(window, min_periods=7).median().shift(1)
    scale = (MAD_TO_SD * spread).clip(lower=0.02)
    score = (z - expected) / scale
    ready = expected.notna() & scale.notna()
    flag = ready & (score.abs() > threshold) & ~is_holiday & series.notna()
    out = pd.DataFrame(
        {
            "value": values,
            "expected": np.expm1(expected),
            "lower": np.expm1(expected - threshold * scale).clip(lower=0.0),
            "upper": np.expm1(expected + threshold * scale),
            "score": score.where(ready),
            "holiday": is_holiday,
            "is_anomaly": flag.to_numpy(),
        },
        index=series.index,
    )
    out["direction"] = np.where(out["is_anomaly"], np.where(out["score"] > 0, "up", "down"), "")
    return out
