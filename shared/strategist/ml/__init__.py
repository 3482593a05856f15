"""Modelling core: media-mix model, response curves, forecasts, the budget allocator, anomalies and A/B tests.

Pure numpy/scipy/scikit-learn/pandas (it ships in the ``ml`` Lambda layer); nothing here talks to AWS or a database.
"""

from strategist.ml.abtest import (
    SequentialResult,
    TestResult,
    always_valid_pvalues,
    difference_in_means,
    difference_in_proportions,
    sequential_proportions,
)
from strategist.ml.adstock import DelayedAdstock, GeometricAdstock, WeibullAdstock
from strategist.ml.allocator import (
    Allocation,
    InfeasibleBudgetError,
    allocate,
    allocate_for_target,
    min_budget_for_outcome,
)
from strategist.ml.anomaly import detect_anomalies
from strategist.ml.backtest import BacktestReport, backtest
from strategist.ml.curves import PlatformResponse, fit_platform_response, prior_response
from strategist.ml.forecast import forecast_plan
from strategist.ml.mmm import MediaMixModel
from strategist.ml.priors import FunnelPrior, MetricPrior, benchmark_prior, load_benchmarks
from strategist.ml.response import PowerCurve, ResponseCurve, SaturationCurve
from strategist.ml.saturation import HillSaturation, LogisticSaturation

__all__ = [
    "Allocation",
    "BacktestReport",
    "DelayedAdstock",
    "FunnelPrior",
    "GeometricAdstock",
    "HillSaturation",
    "InfeasibleBudgetError",
    "LogisticSaturation",
    "MediaMixModel",
    "MetricPrior",
    "PlatformResponse",
    "PowerCurve",
    "ResponseCurve",
    "SaturationCurve",
    "SequentialResult",
    "TestResult",
    "WeibullAdstock",
    "allocate",
    "allocate_for_target",
    "always_valid_pvalues",
    "backtest",
    "benchmark_prior",
    "detect_anomalies",
    "difference_in_means",
    "difference_in_proportions",
    "fit_platform_response",
    "forecast_plan",
    "load_benchmarks",
    "min_budget_for_outcome",
    "prior_response",
    "sequential_proportions",
]
