"""Modelling core: media-mix model, response curves, forecasts, the budget allocator, anomalies and A/B tests."""

from strategist.ml.allocator import (
    Allocation,
    InfeasibleBudgetError,
    allocate,
    allocate_for_target,
    min_budget_for_outcome,
)
from strategist.ml.mmm import MediaMixModel
from strategist.ml.response import PowerCurve, ResponseCurve, SaturationCurve

__all__ = [
    "Allocation",
    "InfeasibleBudgetError",
    "MediaMixModel",
    "PowerCurve",
    "ResponseCurve",
    "SaturationCurve",
    "allocate",
    "allocate_for_target",
    "min_budget_for_outcome",
]
