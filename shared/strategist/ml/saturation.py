"""Diminishing-returns (saturation) transformers.

Both curves are 0 at 0, increasing, and bounded by 1, so a non-negative coefficient times the curve is a channel's
contribution. The logistic curve is concave everywhere (the allocator is then exact); Hill is concave for
``slope <= 1`` and S-shaped above.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = [
    "HillSaturation",
    "LogisticSaturation",
    "hill",
    "hill_derivative",
    "logistic",
    "logistic_derivative",
]


def logistic(x: ArrayLike, lam: ArrayLike) -> NDArray[np.float64]:
    """(1 - e^(-lam x)) / (1 + e^(-lam x)), written as tanh for numerical stability."""
    return np.tanh(0.5 * np.asarray(lam, dtype=float) * np.maximum(np.asarray(x, dtype=float), 0.0))


def logistic_derivative(x: ArrayLike, lam: ArrayLike) -> NDArray[np.float64]:
    lam = np.asarray(lam, dtype=float)
    t = logistic(x, lam)
    return 0.5 * lam * (1.0 - t * t)


def hill(x: ArrayLike, half: ArrayLike, slope: ArrayLike) -> NDArray[np.float64]:
    """x^s / (x^s + K^s), computed as a logistic in log x to stay finite for tiny and huge x."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    half = np.asarray(half, dtype=float)
    slope = np.asarray(slope, dtype=float)
    with np.errstate(divide="ignore"):
        z = slope * (np.log(x) - np.log(half))
    return np.where(x > 0, 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700))), 0.0)


def hill_derivative(x: ArrayLike, half: ArrayLike, slope: ArrayLike) -> NDArray[np.float64]:
    x = np.maximum(np.asarray(x, dtype=float), 1e-300)
    h = hill(x, half, slope)
    return np.asarray(slope, dtype=float) * h * (1.0 - h) / x


class LogisticSaturation(TransformerMixin, BaseEstimator):
    """Concave saturation: ``lam`` is the steepness per unit of (scaled) input."""

    def __init__(self, lam: float = 1.0) -> None:
        self.lam = lam

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> LogisticSaturation:
        self.n_features_in_ = np.asarray(X).reshape(len(X), -1).shape[1]
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        return logistic(X, self.lam)


class HillSaturation(TransformerMixin, BaseEstimator):
    """Hill curve: ``half`` is the input giving half the maximum effect, ``slope`` its steepness."""

    def __init__(self, half: float = 1.0, slope: float = 1.0) -> None:
        self.half = half
        self.slope = slope

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> HillSaturation:
        self.n_features_in_ = np.asarray(X).reshape(len(X), -1).shape[1]
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        return hill(X, self.half, self.slope)
