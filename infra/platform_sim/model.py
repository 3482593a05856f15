"""Known response curves, vectorized over campaigns x days.

Spend follows the budget schedule (with pacing noise and weekly seasonality); conversions follow a Hill curve of
geometrically adstocked spend. Every random draw is a pure function of (seed, campaign, date, stream) through a
counter-based hash, so any day's numbers are the same whichever range is asked for and whenever; only a budget
change (which changes spend from its effective day on) moves them.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)

#: Fraction of final conversions already reported for a day this many days old (1 = yesterday).
RESTATEMENT = (0.70, 0.85, 0.925, 0.9625, 0.98, 0.99)
RESTATEMENT_DAYS = len(RESTATEMENT)


def stable_hash(text: str) -> int:
    """32-bit, process-independent (unlike hash())."""
    return zlib.crc32(text.encode())


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def normal_noise(seed: int, campaign_hashes: np.ndarray, ordinals: np.ndarray, stream: int) -> np.ndarray:
    """Standard normal draws, shape (campaigns, days), deterministic per (seed, campaign, day, stream)."""
    with np.errstate(over="ignore"):
        key = (
            np.uint64(seed) * np.uint64(0x100000001B3)
            ^ (campaign_hashes.astype(np.uint64)[:, None] << np.uint64(20))
            ^ ordinals.astype(np.uint64)[None, :] * np.uint64(0x9E37)
            ^ np.uint64(stream) << np.uint64(56)
        )
    a = _splitmix64(key)
    b = _splitmix64(a ^ np.uint64(0xD1B54A32D192ED03))
    u1 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
    u2 = (b >> np.uint64(11)).astype(np.float64) / 2.0**53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@dataclass(frozen=True)
class Curves:
    """Curve parameters as column vectors (one row per campaign)."""

    cpm: np.ndarray
    ctr: np.ndarray
    max_conversions: np.ndarray
    half_saturation: np.ndarray
    hill_shape: np.ndarray
    adstock_decay: np.ndarray
    aov: np.ndarray
    weekly_amplitude: np.ndarray
    weekly_phase: np.ndarray
    noise: np.ndarray
    video_view_rate: np.ndarray
    frequency: np.ndarray


@dataclass(frozen=True)
class Series:
    """Final (fully attributed) daily values, float arrays of shape (campaigns, days)."""

    spend: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    conversions: np.ndarray
    conversion_value: np.ndarray
    video_views: np.ndarray
    reach: np.ndarray
    budget: np.ndarray


def simulate(
    *,
    seed: int,
    campaign_hashes: np.ndarray,
    ordinals: np.ndarray,
    daily_budget: np.ndarray,
    curves: Curves,
    money_decimals: int,
    conversion_decimals: int,
) -> Series:
    """Daily series for all campaigns; ``daily_budget`` is (campaigns, days), 0 where a campaign does not run."""

    def noise(stream: int) -> np.ndarray:
        return normal_noise(seed, campaign_hashes, ordinals, stream)

    def col(values: np.ndarray) -> np.ndarray:
        return values[:, None]

    dow = (ordinals - 1) % 7  # date.toordinal() of a Monday is 1 mod 7
    weekly = 1.0 + col(curves.weekly_amplitude) * np.cos(
        2.0 * np.pi * (dow[None, :] - col(curves.weekly_phase)) / 7.0
    )
    sigma = col(curves.noise)

    pacing = np.clip(0.93 * weekly * np.exp(sigma * noise(1)), 0.2, 1.6)
    spend = np.round(daily_budget * pacing, money_decimals)
    running = spend > 0
    impressions = np.where(
        running, np.round(spend / col(curves.cpm) * 1000.0 * np.exp(sigma * noise(2))), 0.0
    )
    clicks = np.round(impressions * col(curves.ctr) * np.exp(sigma * noise(3)))

    decay = curves.adstock_decay
    adstock = np.empty_like(spend)
    carry = np.zeros(spend.shape[0])
    for day in range(spend.shape[1]):
        carry = spend[:, day] + decay * carry
        adstock[:, day] = carry
    effective = adstock * col(1.0 - decay)  # steady state equals the daily spend
    shape = col(curves.hill_shape)
    ratio = np.power(effective, shape)
    hill = ratio / (ratio + np.power(col(curves.half_saturation), shape))
    conversions = col(curves.max_conversions) * hill * weekly * np.exp(1.5 * sigma * noise(4))
    conversions = np.where(running, np.round(conversions, conversion_decimals), 0.0)
    value = np.round(conversions * col(curves.aov) * np.exp(sigma * noise(5)), money_decimals)
    views = np.round(impressions * col(curves.video_view_rate) * np.exp(0.5 * sigma * noise(6)))
    reach = np.round(impressions / col(curves.frequency))
    return Series(
        spend=spend,
        impressions=impressions,
        clicks=clicks,
        conversions=conversions,
        conversion_value=value,
        video_views=views,
        reach=reach,
        budget=daily_budget,
    )


def completeness(age_days: np.ndarray) -> np.ndarray:
    """Share of final conversions a platform reports for a day ``age_days`` old (restatement)."""
    table = np.array((0.0, *RESTATEMENT, 1.0))
    return table[np.clip(age_days, 0, RESTATEMENT_DAYS + 1)]


def reported(final: np.ndarray, share: np.ndarray, decimals: int) -> np.ndarray:
    """Conversions/value as reported today: the final figure scaled down and rounded *down* (late ones grow)."""
    factor = 10.0**decimals
    return np.floor(final * share * factor + 1e-9) / factor
