"""pymc-marketing anchor on mmm_example.csv (run with bench/.venv-pymc/bin/python; prints one JSON line).

Same protocol as ../shared/data/mmm/README.md: geometric adstock (l_max 8), logistic saturation, yearly Fourier
order 2, the two events and trend as controls; train on the first 143 weeks, test on the last 36; 2 chains x 500
tune / 500 draws, seed 42, chains in parallel (cores=2). The first fit compiles (cold), the second is timed warm.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def main(path: str) -> None:
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    df = pd.read_csv(path, parse_dates=["date_week"])
    tr, te = df.iloc[:143], df.iloc[143:]
    cols = ["date_week", "x1", "x2", "event_1", "event_2", "t"]

    def build() -> MMM:
        return MMM(
            adstock=GeometricAdstock(l_max=8),
            saturation=LogisticSaturation(),
            date_column="date_week",
            channel_columns=["x1", "x2"],
            control_columns=["event_1", "event_2", "t"],
            yearly_seasonality=2,
        )

    out: dict[str, float] = {}
    for label in ("cold", "warm"):
        m = build()
        start = time.perf_counter()
        m.fit(tr[cols], tr["y"], chains=2, cores=2, tune=500, draws=500, random_seed=42, progressbar=False)
        out[f"fit_{label}_s"] = time.perf_counter() - start
    start = time.perf_counter()
    pp = m.sample_posterior_predictive(
        te[cols], extend_idata=False, include_last_observations=True, random_seed=42, progressbar=False
    )
    out["predict_s"] = time.perf_counter() - start
    samples = pp["y"].to_numpy() if hasattr(pp, "__getitem__") else np.asarray(pp)
    samples = (
        samples.reshape(-1, samples.shape[-1])
        if samples.shape[-1] == len(te)
        else samples.reshape(len(te), -1).T
    )
    y = te["y"].to_numpy()
    mean = samples.mean(axis=0)
    out["test_mape_pct"] = float(np.mean(np.abs(mean - y) / y) * 100)
    for c in (0.8, 0.94):
        lo, hi = np.quantile(samples, [(1 - c) / 2, (1 + c) / 2], axis=0)
        out[f"coverage_{round(c * 100)}_pct"] = float(np.mean((y >= lo) & (y <= hi)) * 100)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["version"] = __import__("pymc_marketing").__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
