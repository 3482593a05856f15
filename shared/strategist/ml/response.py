"""Response curves: expected outcome per period as a function of spend per period.

They are the only thing the allocator and the forecaster need from a model, so the MMM, the per-platform fits and
the benchmark priors all hand over these objects. Each carries optional parameter draws (one row per draw, drawn
jointly across channels by whoever made them) so that uplifts get intervals, and an analytic inverse of the
marginal return where one exists, which keeps the allocator in the millisecond range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from strategist.ml.saturation import hill, hill_derivative, logistic, logistic_derivative

__all__ = ["PowerCurve", "ResponseCurve", "SaturationCurve"]

Array = NDArray[np.float64]


@runtime_checkable
class ResponseCurve(Protocol):
    """What the allocator needs: value, marginal return, concavity and (optionally) draws."""

    @property
    def concave(self) -> bool: ...

    def value(self, spend: ArrayLike) -> Array: ...

    def derivative(self, spend: ArrayLike) -> Array: ...

    def value_draws(self, spend: float) -> Array | None: ...

    def spend_for_marginal(self, marginal: float) -> float | None: ...


@dataclass(frozen=True)
class SaturationCurve:
    """``scale * saturation(spend / input_scale)``: the steady state of an adstock + saturation channel.

    ``params`` is ``(lam,)`` for logistic or ``(half, slope)`` for Hill; ``draws`` rows are
    ``(scale, *params)``.
    """

    kind: str
    scale: float
    params: tuple[float, ...]
    input_scale: float = 1.0
    draws: Array | None = field(default=None, compare=False)

    @property
    def concave(self) -> bool:
        return self.kind == "logistic" or self.params[1] <= 1.0

    def _curve(self, x: Array, params: tuple[float, ...] | Array) -> Array:
        if self.kind == "logistic":
            return logistic(x, params[0])
        return hill(x, params[0], params[1])

    def value(self, spend: ArrayLike) -> Array:
        x = np.asarray(spend, dtype=float) / self.input_scale
        return self.scale * self._curve(x, self.params)

    def derivative(self, spend: ArrayLike) -> Array:
        x = np.asarray(spend, dtype=float) / self.input_scale
        if self.kind == "logistic":
            d = logistic_derivative(x, self.params[0])
        else:
            d = hill_derivative(x, self.params[0], self.params[1])
        return self.scale * d / self.input_scale

    def value_draws(self, spend: float) -> Array | None:
        if self.draws is None or not len(self.draws):
            return None
        x = float(spend) / self.input_scale
        params = tuple(self.draws[:, j] for j in range(1, self.draws.shape[1]))
        return self.draws[:, 0] * self._curve(np.full(len(self.draws), x), params)

    def spend_for_marginal(self, marginal: float) -> float | None:
        """Spend at which the marginal return falls to ``marginal`` (closed form for the logistic)."""
        if self.kind != "logistic":
            return None
        lam = self.params[0]
        top = self.scale * 0.5 * lam / self.input_scale
        if top <= 0 or marginal >= top:
            return 0.0
        if marginal <= 0:
            return float("inf")
        t = np.sqrt(1.0 - marginal / top)
        return float(2.0 * self.input_scale / lam * np.arctanh(min(t, 1 - 1e-16)))


@dataclass(frozen=True)
class PowerCurve:
    """``coef * spend ** exponent`` with ``0 < exponent <= 1``: the per-platform log-log response.

    ``draws`` rows are ``(coef, exponent)``.
    """

    coef: float
    exponent: float
    draws: Array | None = field(default=None, compare=False)

    @property
    def concave(self) -> bool:
        return 0 < self.exponent <= 1

    def value(self, spend: ArrayLike) -> Array:
        return self.coef * np.power(np.maximum(np.asarray(spend, dtype=float), 0.0), self.exponent)

    def derivative(self, spend: ArrayLike) -> Array:
        s = np.maximum(np.asarray(spend, dtype=float), 1e-12)
        return self.coef * self.exponent * np.power(s, self.exponent - 1.0)

    def value_draws(self, spend: float) -> Array | None:
        if self.draws is None or not len(self.draws):
            return None
        return self.draws[:, 0] * np.power(max(float(spend), 0.0), self.draws[:, 1])

    def spend_for_marginal(self, marginal: float) -> float | None:
        if marginal <= 0:
            return float("inf")
        if self.exponent >= 1.0:
            return float("inf") if self.coef > marginal else 0.0
        # In logs: with an exponent near 1 the power overflows a float although the answer is just "very large".
        log_spend = (math.log(marginal) - math.log(self.coef * self.exponent)) / (self.exponent - 1.0)
        if log_spend > 700.0:
            return float("inf")
        return math.exp(log_spend) if log_spend > -700.0 else 0.0
