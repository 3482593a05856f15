import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from strategist.ml import DelayedAdstock, GeometricAdstock, HillSaturation, LogisticSaturation, WeibullAdstock
from strategist.ml.adstock import delayed_weights, geometric_weights, weibull_weights


@pytest.mark.parametrize(
    "weights",
    [geometric_weights(0.6, 8), delayed_weights(0.5, 2.0, 8), weibull_weights(2.0, 0.3, 8)],
)
def test_weights_are_normalised_so_steady_state_equals_spend(weights):
    assert weights.sum() == pytest.approx(1.0)
    out = GeometricAdstock(alpha=0.6, l_max=8).fit(np.ones((20, 1))).transform(np.ones((20, 1)))
    assert out[-1, 0] == pytest.approx(1.0)


def test_adstock_carries_a_single_pulse_forward_and_never_backward():
    x = np.zeros(10)
    x[3] = 1.0
    out = GeometricAdstock(alpha=0.5, l_max=4).fit(x[:, None]).transform(x[:, None])[:, 0]
    assert np.all(out[:3] == 0)
    assert np.all(np.diff(out[3:7]) < 0)
    assert out[7:].sum() == 0


def test_transformers_compose_in_a_pipeline_and_clone():
    pipe = make_pipeline(DelayedAdstock(alpha=0.5, theta=1, l_max=6), HillSaturation(half=1.0, slope=1.0))
    x = np.abs(np.random.default_rng(0).normal(size=(30, 2)))
    out = pipe.fit_transform(x)
    assert out.shape == (30, 2)
    assert np.all((out >= 0) & (out < 1))
    params = clone(pipe).get_params()
    assert params["delayedadstock__theta"] == 1
    assert WeibullAdstock(shape=2.0).get_params()["shape"] == 2.0


@settings(max_examples=50, deadline=None)
@given(
    lam=st.floats(0.05, 10),
    half=st.floats(0.05, 10),
    slope=st.floats(0.3, 3),
    xs=st.lists(st.floats(0, 100), min_size=2, max_size=20),
)
def test_saturation_curves_are_monotone_bounded_and_zero_at_zero(lam, half, slope, xs):
    x = np.sort(np.asarray(xs))[:, None]
    for sat in (LogisticSaturation(lam=lam), HillSaturation(half=half, slope=slope)):
        y = sat.fit(x).transform(x)[:, 0]
        assert np.all(np.diff(y) >= -1e-12)
        assert np.all((y >= 0) & (y <= 1))
        assert sat.transform(np.zeros((1, 1)))[0, 0] == 0.0


def test_ml_package_stays_inside_its_lambda_layer():
    """strategist.ml ships in the ml layer: it must not pull in AWS, database, HTTP or web-framework code."""
    code = (
        "import sys; import strategist.ml; "
        "print(','.join(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'sqlalchemy', 'httpx', 'chalice')))"
    )
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(repo / "shared")},
    )
    assert out.stdout.strip() == ""
