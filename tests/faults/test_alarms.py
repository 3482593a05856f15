"""The template's CloudWatch alarms, evaluated locally: every alarm's metric has a local measurement, and each
alarm, applied (threshold, comparison, evaluation periods, missing data) to what a faulty run produced, fires,
while a healthy run leaves it quiet. A new alarm without a local check fails `test_every_alarm_has_a_local_check`.

One local run stands for one alarm period: the alarms' periods are 5 minutes and these runs take seconds, so a
datapoint per run is the honest unit (the threshold logic is what is being tested, not CloudWatch's clock)."""

from __future__ import annotations

import operator
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from infra.template import load_template

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def alarms() -> dict[str, dict[str, Any]]:
    return {lid: res["Properties"] for lid, res in load_template().of_type("AWS::CloudWatch::Alarm").items()}


def metric_of(props: dict[str, Any]) -> tuple[str, str, str]:
    """(namespace, metric name, statistic) of a single-metric or a one-MetricStat alarm."""
    if "Metrics" in props:
        (stat,) = [m for m in props["Metrics"] if "MetricStat" in m]
        ms = stat["MetricStat"]
        return ms["Metric"]["Namespace"], ms["Metric"]["MetricName"], ms["Stat"]
    return props["Namespace"], props["MetricName"], props.get("Statistic") or props["ExtendedStatistic"]


def fires(props: dict[str, Any], datapoints: list[float | None]) -> bool:
    """CloudWatch's rule: of the last EvaluationPeriods datapoints, at least DatapointsToAlarm breach; a missing
    datapoint counts as not breaching under TreatMissingData notBreaching (the template's choice)."""
    n = int(props["EvaluationPeriods"])
    m = int(props.get("DatapointsToAlarm", n))
    assert props.get("TreatMissingData", "missing") == "notBreaching"
    compare = COMPARE[props["ComparisonOperator"]]
    window = ([None] * n + datapoints)[-n:]
    return sum(1 for v in window if v is not None and compare(float(v), float(props["Threshold"]))) >= m


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


#: (namespace, metric) -> how this suite measures it locally (the test that does it is named)
LOCAL_CHECKS = {
    (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    ): "DLQ depth from the queue (test_dlq_alarms_fire_on_poison)",
    ("AWS/ApiGateway", "5XXError"): "share of 5xx answers through the gateway (test_api_alarms)",
    ("AWS/ApiGateway", "Latency"): "p99 of gateway request times (test_api_alarms)",
    ("AWS/Lambda", "Errors"): "failed invocations of the function (test_outbox_relay_alarms)",
    ("AWS/Lambda", "Duration"): "invocation wall time (test_outbox_relay_alarms)",
}


def test_every_alarm_has_a_local_check() -> None:
    found = alarms()
    assert len(found) >= 7
    for lid, props in found.items():
        namespace, name, _stat = metric_of(props)
        assert (namespace, name) in LOCAL_CHECKS, f"{lid} watches {namespace}/{name}: add a local check"
        assert props["ComparisonOperator"] in COMPARE and props.get("AlarmActions"), lid


def test_alarm_rule() -> None:
    props = {"EvaluationPeriods": 2, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
             "TreatMissingData": "notBreaching"}  # fmt: skip
    assert fires(props, [1, 1]) and not fires(props, [1, 0]) and not fires(props, [1])
    assert not fires(props, []) and fires({**props, "DatapointsToAlarm": 1}, [0, 3])


def _dlq_alarms() -> dict[str, str]:
    """alarm id -> the worker whose queue redrives into the watched DLQ."""
    template = load_template()
    out = {}
    for lid, props in alarms().items():
        if metric_of(props)[:2] != ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
            continue
        (dim,) = props["Dimensions"]
        dlq = dim["Value"]["Fn::GetAtt"][0]
        source = next(q for q in template.queues.values() if q.dead_letter_of == dlq)
        out[lid] = next(t.function for t in template.sqs_triggers if t.queue == source.logical_id)
    return out


def test_dlq_alarms_fire_on_poison(worker_queue: Any) -> None:
    """Each DLQ alarm's queue gets one unparseable message: after maxReceiveCount deliveries the DLQ depth is 1
    and the alarm fires; before, at depth 0, it is quiet."""
    mapping = _dlq_alarms()
    assert set(mapping.values()) == {
        "WorkerSyncFunction",
        "WorkerCommunicationsFunction",
        "WorkerReportsFunction",
    }
    for alarm, function in mapping.items():
        props = alarms()[alarm]
        assert metric_of(props)[2] == "Maximum"
        q = worker_queue(function)
        assert not fires(props, [q.dlq_depth()])
        q.send("not json")
        q.drain(30)
        assert q.dlq_depth() == 1 and fires(props, [q.dlq_depth()]), alarm


def test_api_alarms(gateway: Any, make_tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Healthy traffic: no 5xx, p99 far under 3 s: both API alarms quiet. One route broken (its service raises):
    its share of 5xx passes 1 % in two consecutive periods and Api5xxAlarm fires."""
    from infra.local.gateway import create_app
    from strategist.services import clients

    a = alarms()
    errors_alarm, latency_alarm = a["Api5xxAlarm"], a["ApiLatencyAlarm"]
    world = make_tenant()
    paths = ["/api/v1/clients", f"/api/v1/clients/{world.clients[0]}", "/api/v1/alerts", "/health"]

    def period(client: TestClient) -> tuple[float, list[float]]:
        codes, times = [], []
        for _ in range(5):
            for path in paths:
                started = time.perf_counter()
                codes.append(client.get(path, headers=world.analyst.headers).status_code)
                times.append((time.perf_counter() - started) * 1000)
        return sum(c >= 500 for c in codes) / len(codes), times

    with TestClient(create_app(gateway), raise_server_exceptions=False) as client:
        healthy = [period(client) for _ in range(3)]
        assert [share for share, _ in healthy] == [0.0, 0.0, 0.0]
        assert not fires(errors_alarm, [share for share, _ in healthy])
        assert not fires(latency_alarm, [p99(times) for _, times in healthy])

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"injected fault {uuid.uuid4()}")

        monkeypatch.setattr(clients, "list_clients", broken)
        faulty = [period(client) for _ in range(2)]
    assert all(share == 0.25 for share, _ in faulty)  # one path of four
    assert fires(errors_alarm, [share for share, _ in faulty])
    assert not fires(errors_alarm, [faulty[0][0], 0.0])  # one bad period is not enough


def test_outbox_relay_alarms(api: Any, make_tenant: Any, stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """EventBridge unreachable for two runs: the relay keeps every event pending with the reason and fails its
    invocation, so Errors > 0 in two periods fires OutboxRelayErrorsAlarm (it used to return normally, and the
    alarm could never fire). When the bus is back the backlog goes out and both relay alarms are quiet."""
    from botocore.exceptions import EndpointConnectionError

    from infra.local import lambda_runtime
    from strategist.adapters.aws.clients import aws_client

    a = alarms()
    errors_alarm, duration_alarm = a["OutboxRelayErrorsAlarm"], a["OutboxRelayDurationAlarm"]
    spec = stack.template.functions["JobOutboxRelayFunction"]
    assert float(duration_alarm["Threshold"]) < spec.timeout * 1000  # it fires before the timeout kills it
    world = make_tenant()
    body = {"name": f"Outbox {uuid.uuid4().hex[:6]}", "industry": "retail", "currency": "USD"}
    r = api.post("/api/v1/clients", json=body, headers=world.admin.headers)
    assert r.status_code == 201, r.text  # its client.created event waits in the outbox

    def down(**kwargs: Any) -> Any:
        raise EndpointConnectionError(endpoint_url="https://events.unreachable.example")

    errors, durations = [], []

    def run() -> None:
        started = time.perf_counter()
        try:
            lambda_runtime.invoke(spec, lambda_runtime.scheduled_event("JobOutboxRelayFunction-test"))
            errors.append(0)
        except Exception:
            errors.append(1)
        durations.append((time.perf_counter() - started) * 1000)

    events = aws_client("events")
    monkeypatch.setattr(events, "put_events", down)
    run()
    run()
    assert errors == [1, 1] and fires(errors_alarm, errors)
    monkeypatch.undo()
    run()
    run()
    assert errors[2:] == [0, 0] and not fires(errors_alarm, errors)
    assert not fires(duration_alarm, durations)
