"""Anomaly-alert false alarms on clean simulated series, and detection of injected faults.

Each simulated client has 2-5 campaigns whose daily spend, impressions, clicks, conversions and revenue come from
the platform simulator's own curves (``infra.platform_sim.model.simulate``: budget pacing noise, weekly
seasonality, Hill conversions of adstocked spend, lognormal noise), drawn as ``demo_spec`` draws them, with
constant budgets and no injected fault. Every day of each simulated month the alert job's own detector
(``strategist.services.alerts.detectors.anomaly``) judges the client's totals as the job would see them that
day: conversions and revenue of the most recent days are scaled down by the simulator's restatement curve
(``RESTATEMENT``: 70 % reported a day later, 92.5 % after three days), so the early-estimate dip is in the data.
A false alarm is an alert *opening* (the dedup state machine of strategist.domain.alert_state: consecutive firing
days are one alert), counted per client-month, for each sensitivity threshold.

Faults: (a) a spend spike: the client's largest campaign spends 3x its usual (impressions and clicks with it) on
one day; detected if the client-level cost anomaly fires on that day. (b) tracking drop: the largest campaign's
conversions and revenue fall to zero from a day on; detected by the tracking_stopped rule (days = 2) and by the
conversions anomaly rule, with the delay in days.

With --scope campaign, each campaign's own series is judged alone (campaign-scoped rules; no faults).

Run: .venv/bin/python bench/alerts_false_alarms.py [--clients 60] [--months 4] [--seed 11] [--scope client|campaign]
     [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "shared"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from infra.platform_sim.model import RESTATEMENT, Curves, simulate, stable_hash  # noqa: E402
from strategist.services.alerts import detectors as det  # noqa: E402

HISTORY_DAYS = 120
THRESHOLDS = (3.5, 4.0, 4.5, 5.0, 6.0)
METRICS = ("cost", "impressions", "clicks", "conversions", "revenue")


def client_campaigns(seed: int, index: int, start: dt.date, n_days: int) -> list[det.Daily]:
    """The client's campaigns' final daily series (fully attributed), one Daily per campaign."""
    rng = np.random.default_rng([seed, index])
    n = int(rng.integers(2, 6))
    budgets = rng.choice([50, 75, 100, 150, 250, 400], size=n).astype(float)
    curves = Curves(
        cpm=rng.uniform(4, 25, n),
        ctr=rng.uniform(0.005, 0.05, n),
        max_conversions=rng.uniform(5, 60, n),
        half_saturation=budgets * rng.uniform(0.6, 1.8, n),
        hill_shape=rng.uniform(0.9, 2.2, n),
        adstock_decay=rng.uniform(0.1, 0.7, n),
        aov=rng.uniform(30, 200, n),
        weekly_amplitude=rng.uniform(0.05, 0.25, n),
        weekly_phase=rng.integers(0, 7, n).astype(float),
        noise=np.full(n, 0.08),
        video_view_rate=np.zeros(n),
        frequency=np.full(n, 1.25),
    )
    ordinals = np.arange(start.toordinal(), start.toordinal() + n_days)
    s = simulate(
        seed=seed,
        campaign_hashes=np.array([stable_hash(f"{seed}-{index}-{k}") for k in range(n)], dtype=np.uint64),
        ordinals=ordinals,
        daily_budget=np.repeat(budgets[:, None], n_days, axis=1),
        curves=curves,
        money_decimals=2,
        conversion_decimals=int(rng.choice([0, 2])),
    )
    days = [start + dt.timedelta(days=i) for i in range(n_days)]
    return [
        {
            d: det.DayTotals(
                float(s.spend[k, i]),
                float(s.impressions[k, i]),
                float(s.clicks[k, i]),
                float(s.conversions[k, i]),
                float(s.conversion_value[k, i]),
            )
            for i, d in enumerate(days)
        }
        for k in range(n)
    ]


def as_seen(daily: det.Daily, today: dt.date) -> det.Daily:
    """What the job reads on ``today``: days before today only; the last days' conversions and revenue restated
    (the reported share of the final figure, rounded down as platforms report)."""
    out: det.Daily = {}
    for d, v in daily.items():
        if d >= today:
            continue
        age = (today - d).days
        share = RESTATEMENT[age - 1] if age <= len(RESTATEMENT) else 1.0
        if share < 1.0:
            v = det.DayTotals(v.cost, v.impressions, v.clicks, math.floor(v.conversions * share * 100) / 100,
                              math.floor(v.revenue * share * 100) / 100)  # fmt: skip
        out[d] = v
    return out


def daily_scores(
    daily: det.Daily, days: list[dt.date], metrics: tuple[str, ...] = METRICS
) -> dict[str, list]:
    """Per metric, per evaluation day: (anomaly score, counting-noise p or None) as the job computes them that day
    (None = not judged). The p is computed for counts whose score passes 3.5, the lowest threshold swept."""
    out: dict[str, list] = {m: [] for m in metrics}
    for today in days:
        seen = as_seen(daily, today)
        for m in metrics:
            f = det.anomaly(seen, metric=m, threshold=3.5, direction="both", today=today, object_key=m,
                            label="client", currency="USD")  # fmt: skip
            score = f.evidence.get("score") if f.status != "unknown" else None
            out[m].append(None if score is None else (score, f.evidence.get("counting_noise_p")))
    return out


def fires(judged: tuple[float, float | None], threshold: float) -> bool:
    """The detector's decision at ``threshold``: beyond it in robust sds and, for counts, under counting noise."""
    score, p = judged
    return abs(score) > threshold and (p is None or p < det.two_sided_tail(threshold))


def openings(scores: list[tuple[float, float | None] | None], threshold: float) -> int:
    """Alert openings under the dedup state machine: firing after a day that was not firing (unknown days keep
    the previous state)."""
    opened, live = 0, False
    for s in scores:
        if s is None:
            continue
        firing = fires(s, threshold)
        if firing and not live:
            opened += 1
        live = firing
    return opened


def run_campaign_scope(n_clients: int, months: int, seed: int) -> dict[str, Any]:
    """False alarms of campaign-scoped anomaly rules: each campaign's own series judged alone (smaller counts,
    so noisier than client totals), per campaign-month."""
    t0 = time.perf_counter()
    eval_days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(months * 30)]
    start = eval_days[0] - dt.timedelta(days=HISTORY_DAYS)
    n_days = HISTORY_DAYS + len(eval_days) + 1
    opened = {t: defaultdict(int) for t in THRESHOLDS}
    n_campaigns = 0
    for c in range(n_clients):
        for camp in client_campaigns(seed, c, start, n_days):
            n_campaigns += 1
            scores = daily_scores(camp, eval_days)
            for t in THRESHOLDS:
                for m in METRICS:
                    opened[t][m] += openings(scores[m], t)
    cm = n_campaigns * months
    return {
        "campaigns": n_campaigns,
        "campaign_months": cm,
        "false_alarms_per_campaign_month": {
            str(t): {
                "all_5_metrics": round(sum(opened[t].values()) / cm, 3),
                **{m: round(opened[t][m] / cm, 3) for m in METRICS},
            }
            for t in THRESHOLDS
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }


def run(n_clients: int, months: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    month0 = dt.date(2025, 1, 1)
    eval_start = month0
    eval_days = [eval_start + dt.timedelta(days=i) for i in range(months * 30)]
    start = eval_start - dt.timedelta(days=HISTORY_DAYS)
    n_days = HISTORY_DAYS + len(eval_days) + 1
    false_alarms = {t: defaultdict(int) for t in THRESHOLDS}
    client_months = n_clients * months
    spike_hits = {t: 0 for t in THRESHOLDS}
    drop_tracking, drop_delay, drop_anomaly = 0, [], {t: 0 for t in THRESHOLDS}
    for c in range(n_clients):
        camps = client_campaigns(seed, c, start, n_days)
        clean = det.total(camps)
        scores = daily_scores(clean, eval_days)
        for t in THRESHOLDS:
            for m in METRICS:
                false_alarms[t][m] += openings(scores[m], t)
        # fault (a): the largest campaign spends 3x on one day
        big = max(range(len(camps)), key=lambda k: sum(v.cost for v in camps[k].values()))
        spike_day = eval_days[10 + (c % 40)]
        spiked = [dict(x) for x in camps]
        v = spiked[big][spike_day]
        spiked[big][spike_day] = det.DayTotals(
            v.cost * 3, v.impressions * 3, v.clicks * 3, v.conversions, v.revenue
        )
        judge = spike_day + dt.timedelta(days=1)
        f = det.anomaly(as_seen(det.total(spiked), judge), metric="cost", threshold=3.5, direction="both",
                        today=judge, object_key="cost", label="client", currency="USD")  # fmt: skip
        for t in THRESHOLDS:
            spike_hits[t] += int(f.evidence.get("score") is not None and f.evidence["score"] > t)
        # fault (b): the largest campaign's conversions stop
        drop_day = eval_days[20 + (c % 30)]
        dropped = dict(camps[big])
        for d in list(dropped):
            if d >= drop_day:
                w = dropped[d]
                dropped[d] = det.DayTotals(w.cost, w.impressions, w.clicks, 0.0, 0.0)
        found = None
        for lag in range(1, 8):
            today = drop_day + dt.timedelta(days=lag)
            f = det.tracking_stopped(as_seen(dropped, today), params={"days": 2}, today=today, object_key="x",
                                     label="campaign")  # fmt: skip
            if f.status == "firing":
                found = lag
                break
        if found is not None:
            drop_tracking += 1
            drop_delay.append(found)
        client_drop = [*camps[:big], dropped, *camps[big + 1 :]]
        judge = drop_day + dt.timedelta(days=1 + det.SETTLE_DAYS)
        f = det.anomaly(as_seen(det.total(client_drop), judge), metric="conversions", threshold=3.5,
                        direction="both", today=judge, object_key="c", label="client", currency="USD")  # fmt: skip
        judged = (f.evidence.get("score"), f.evidence.get("counting_noise_p"))
        for t in THRESHOLDS:
            drop_anomaly[t] += int(judged[0] is not None and judged[0] < 0 and fires(judged, t))
    return {
        "clients": n_clients,
        "months": months,
        "client_months": client_months,
        "seed": seed,
        "false_alarms_per_client_month": {
            str(t): {
                "all_5_metrics": round(sum(false_alarms[t].values()) / client_months, 3),
                **{m: round(false_alarms[t][m] / client_months, 3) for m in METRICS},
            }
            for t in THRESHOLDS
        },
        "spend_spike_3x_largest_campaign_detected": {
            str(t): round(spike_hits[t] / n_clients, 3) for t in THRESHOLDS
        },
        "tracking_drop_detected_by_tracking_stopped": round(drop_tracking / n_clients, 3),
        "tracking_drop_delay_days": {
            "mean": round(float(np.mean(drop_delay)), 2) if drop_delay else None,
            "max": max(drop_delay) if drop_delay else None,
        },
        "tracking_drop_detected_by_conversions_anomaly": {
            str(t): round(drop_anomaly[t] / n_clients, 3) for t in THRESHOLDS
        },
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=60)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--scope", choices=("client", "campaign"), default="client")
    args = parser.parse_args(argv)
    runner = run if args.scope == "client" else run_campaign_scope
    result = runner(args.clients, args.months, args.seed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
