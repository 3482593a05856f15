"""Rolling-origin backtest: the only honest check that a model's intervals cover what they claim.

Each fold refits a clone of the model on the rows before an origin and scores the next ``horizon`` rows, so the
reported coverage includes parameter uncertainty, refitting noise and extrapolation, as in real use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

__all__ = ["BacktestReport", "backtest"]


@dataclass(frozen=True)
class BacktestReport:
    coverage: dict[float, float]
    mape: float
    n_points: int
    origins: list[int]
    folds: list[dict[str, Any]] = field(default_factory=list)


def backtest(
    model: Any,
    X: pd.DataFrame,
    y: Sequence[float] | np.ndarray,
    *,
    n_splits: int = 4,
    horizon: int | None = None,
    min_train: int | None = None,
    coverages: Sequence[float] = (0.8, 0.94),
) -> BacktestReport:
    """Refit ``model`` (anything with ``fit``/``predict``/``predict_interval``) on expanding windows."""
    y_arr = np.asarray(y, dtype=float)
    n = len(X)
    h = horizon or max(1, n // (n_splits + 4))
    first = min_train or max(n - n_splits * h, n // 2)
    if first + h > n or n_splits < 1:
        raise ValueError(
            f"not enough rows ({n}) for {n_splits} folds of horizon {h} after {first} training rows"
        )
    origins = sorted({int(o) for o in np.linspace(first, n - h, n_splits).round()})
    hits = {c: [] for c in coverages}
    ape: list[np.ndarray] = []
    folds = []
    for o in origins:
        m = clone(model).fit(X.iloc[:o], y_arr[:o])
        test = X.iloc[o : o + h]
        truth = y_arr[o : o + h]
        pred = np.asarray(m.predict(test), dtype=float)
        fold: dict[str, Any] = {"origin": o, "mape": float(np.mean(np.abs(pred - truth) / np.abs(truth)))}
        for c in coverages:
            lo, hi = m.predict_interval(test, coverage=c)
            inside = (truth >= lo) & (truth <= hi)
            hits[c].append(inside)
            fold[f"coverage_{c}"] = float(inside.mean())
        ape.append(np.abs(pred - truth) / np.abs(truth))
        folds.append(fold)
    return BacktestReport(
        coverage={c: float(np.concatenate(v).mean()) for c, v in hits.items()},
        mape=float(np.concatenate(ape).mean()),
        n_points=int(sum(len(a) for a in ape)),
        origins=origins,
        folds=folds,
    )
