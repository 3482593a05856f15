"""Carry-over (adstock) transformers.

Spend this period keeps working in later periods; these transformers spread each channel's spend over the
following periods with normalised weights, so the steady-state level of a constant spend ``s`` is ``s``. That
keeps the saturation parameters interpretable in spend units and lets the allocator reason in steady state.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["DelayedAdstock", "GeometricAdstock", "WeibullAdstock", "apply_weights", "geometric_weights"]


def geometric_weights(alpha: float | NDArray[np.float64], l_max: int) -> NDArray[np.float64]:
    """Normalised geometric weights; a vector ``alpha`` gives one column of weights per channel."""
    a = np.atleast_1d(np.asarray(alpha, dtype=float))
    lags = np.arange(l_max)[:, None]
    w = a[None, :] ** lags
    return w / w.sum(axis=0, keepdims=True)


def delayed_weights(
    alpha: float | NDArray[np.float64], theta: float | NDArray[np.float64], l_max: int
) -> NDArray[np.float64]:
    """Weights peaking at lag ``theta`` (Jin et al. 2017): for media whose effect builds up before decaying."""
    a = np.atleast_1d(np.asarray(alpha, dtype=float))
    th = np.atleast_1d(np.asarray(theta, dtype=float))
    lags = np.arange(l_max)[:, None]
    w = a[None, :] ** ((lags - th[None, :]) ** 2)
    return w / w.sum(axis=0, keepdims=True)


def weibull_weights(
    shape: float | NDArray[np.float64], scale: float | NDArray[np.float64], l_max: int
) -> NDArray[np.float64]:
    """Weibull-pdf weights (Robyn's flexible lag): shape > 1 gives a delayed peak, shape < 1 a fast decay."""
    k = np.atleast_1d(np.asarray(shape, dtype=float))
    lam = np.atleast_1d(np.asarray(scale, dtype=float))
    x = (np.arange(l_max)[:, None] + 0.5) / l_max
    logw = np.log(k[None, :]) - np.log(lam[None, :]) + (k[None, :] - 1) * np.log(x / lam[None, :])
    logw -= (x / lam[None, :]) ** k[None, :]
    logw -= logw.max(axis=0, keepdims=True)
    w = np.exp(logw)
    return w / w.sum(axis=0, keepdims=True)


def apply_weights(x: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Causal convolution of each column of ``x`` (n, k) with its own column of ``weights`` (L, k)."""
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 1
    if squeeze:
        x = x[:, None]
    n = x.shape[0]
    out = x * weights[0]
    for lag in range(1, min(weights.shape[0], n)):
        out[lag:] += x[:-lag] * weights[lag]
    return out[:, 0] if squeeze else out


class _Adstock(TransformerMixin, BaseEstimator, metaclass=ABCMeta):
    """Shared sklearn plumbing: stateless per-column transform, rows in time order."""

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> _Adstock:
        self.n_features_in_ = np.asarray(X).reshape(len(X), -1).shape[1]
        return self

    @abstractmethod
    def weights(self) -> NDArray[np.float64]:
        """The lag weights, one per day/week of carry-over; each adstock defines its own shape."""

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(X, dtype=float)
        w = self.weights()
        if x.ndim == 2 and w.shape[1] == 1 and x.shape[1] > 1:
            w = np.repeat(w, x.shape[1], axis=1)
        return apply_weights(x, w)


class GeometricAdstock(_Adstock):
    """Geometric decay: a share ``alpha`` of this period's effect is still there next period."""

    def __init__(self, alpha: float = 0.5, l_max: int = 8) -> None:
        self.alpha = alpha
        self.l_max = l_max

    def weights(self) -> NDArray[np.float64]:
        return geometric_weights(self.alpha, self.l_max)


class DelayedAdstock(_Adstock):
    """Geometric decay around a peak at lag ``theta`` (for media that take time to act, such as TV)."""

    def __init__(self, alpha: float = 0.5, theta: float = 1.0, l_max: int = 8) -> None:
        self.alpha = alpha
        self.theta = theta
        self.l_max = l_max

    def weights(self) -> NDArray[np.float64]:
        return delayed_weights(self.alpha, self.theta, self.l_max)


class WeibullAdstock(_Adstock):
    """Weibull-shaped lag weights: two parameters cover both fast decay and a delayed peak."""

    def __init__(self, shape: float = 1.0, scale: float = 0.3, l_max: int = 8) -> None:
        self.shape = shape
        self.scale = scale
        self.l_max = l_max

    def weights(self) -> NDArray[np.float64]:
        return weibull_weights(self.shape, self.scale, self.l_max)
