"""The quick version of bench/alerts_false_alarms.py: on clean simulated client series (the platform simulator's
curves, restatement of recent conversions included) the default anomaly rule's sensitivity raises well under one
false alarm per client-month, while injected faults (a 3x spend spike, conversions stopping) are caught."""

from __future__ import annotations

import importlib.util

from infra.template import ROOT
from strategist.http.schemas.alerts import SENSITIVITY


def _bench():
    spec = importlib.util.spec_from_file_location(
        "alerts_false_alarms", ROOT / "bench" / "alerts_false_alarms.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_false_alarms_under_one_per_client_month_and_faults_detected():
    result = _bench().run(n_clients=6, months=1, seed=5)
    medium = str(SENSITIVITY["medium"])
    # all five metrics watched at client level, at the default (medium) sensitivity
    assert result["false_alarms_per_client_month"][medium]["all_5_metrics"] < 1.0
    # fewer alarms as the threshold rises (same scores, stricter cut)
    rates = [v["all_5_metrics"] for v in result["false_alarms_per_client_month"].values()]
    assert rates == sorted(rates, reverse=True)
    assert result["spend_spike_3x_largest_campaign_detected"][medium] == 1.0
    assert result["tracking_drop_detected_by_tracking_stopped"] == 1.0
    assert result["tracking_drop_delay_days"]["max"] <= 4  # 2 days when every day has >= 20 clicks
