"""docs/operations.md quotes the template's timeouts, memory, SQS batch sizes, maximum concurrency, visibility
timeouts, redrive counts, schedules, throttles and database limits; this keeps every quoted figure equal to
template.yaml, and every queue-fed and scheduled function in the tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from infra.template import ROOT, load_template

DOC = Path(ROOT) / "docs" / "operations.md"


def _table(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _sqs_event(template: Any, function: str) -> dict[str, Any]:
    events = template.of_type("AWS::Serverless::Function")[function]["Properties"]["Events"]
    return next(e["Properties"] for e in events.values() if e["Type"] == "SQS")


def test_function_table_matches_the_template() -> None:
    template = load_template()
    triggers = {t.function: t for t in template.sqs_triggers}
    schedules: dict[str, list[str]] = {}
    for s in template.schedules:
        schedules.setdefault(s.function, []).append(s.expression)
    rows = _table(DOC.read_text(), "| Function | Timeout (s)")
    documented = {r[0] for r in rows}
    assert set(triggers) | set(schedules) <= documented
    for name, timeout, memory, trigger, batch, max_conc, visibility, receives in rows:
        spec = template.functions[name]
        assert (int(timeout), int(memory)) == (spec.timeout, spec.memory), name
        if name in triggers:
            t = triggers[name]
            queue = template.queues[t.queue]
            scaling = _sqs_event(template, name).get("ScalingConfig", {})
            assert trigger == f"SQS {t.queue}" and int(batch) == t.batch_size, name
            assert int(max_conc) == scaling["MaximumConcurrency"], name
            assert int(visibility) == queue.visibility_timeout and int(receives) == queue.max_receive_count
            assert queue.visibility_timeout >= 6 * spec.timeout, f"{t.queue}: visibility < 6 x timeout"
        elif name in schedules:
            assert trigger == "; ".join(schedules[name]), name
        else:
            assert trigger == "API", name


def test_schedule_table_matches_the_template() -> None:
    template = load_template()
    rows = _table(DOC.read_text(), "| Job | Schedule")
    expected = {(s.function, s.expression) for s in template.schedules}
    assert {(r[0], r[1]) for r in rows} == expected


def test_quoted_limits_match_the_template() -> None:
    template = load_template()
    text = DOC.read_text()
    api = next(iter(template.of_type("AWS::Serverless::Api").values()))["Properties"]
    stage = api["MethodSettings"][0]
    rate, burst = template.usage_plan_throttle
    quota = api["Auth"]["UsagePlan"]["Quota"]["Limit"]
    assert (
        f"REST API stage throttle {stage['ThrottlingRateLimit']} requests/s steady, burst "
        f"{stage['ThrottlingBurstLimit']}" in text
    )
    assert f"usage plan {rate:g} requests/s,\nburst {burst}, quota {quota:,}" in text
    cluster = next(iter(template.of_type("AWS::RDS::DBCluster").values()))["Properties"]
    scaling = cluster["ServerlessV2ScalingConfiguration"]
    assert (
        f"Aurora PostgreSQL {cluster['EngineVersion']}, Serverless v2 from {scaling['MinCapacity']} to "
        in text
    )
    assert f"to {scaling['MaxCapacity']} ACUs" in text
    assert f"{cluster['BackupRetentionPeriod']}-day automated backups" in text
    pool = next(iter(template.of_type("AWS::RDS::DBProxyTargetGroup").values()))["Properties"]
    cfg = pool["ConnectionPoolConfigurationInfo"]
    assert f"use {cfg['MaxConnectionsPercent']} % of them" in text
    assert f"keeps up to {cfg['MaxIdleConnectionsPercent']} % idle" in text
    assert f"up to {cfg['ConnectionBorrowTimeout']} s to borrow" in text
    proxy = next(iter(template.of_type("AWS::RDS::DBProxy").values()))["Properties"]
    assert f"idle clients after {proxy['IdleClientTimeout']} s" in text
    env = template.globals["Environment"]["Variables"]
    assert f"`DB_POOL_SIZE` {env['DB_POOL_SIZE']} + `DB_MAX_OVERFLOW` {env['DB_MAX_OVERFLOW']}" in text
    # the alarm table names every alarm, with its threshold as stated
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    documented = {r[0] for r in _table(text, "| Alarm | Fires when")}
    assert documented == set(alarms)
    assert alarms["OutboxRelayDurationAlarm"]["Properties"]["Threshold"] == 45000 and "over 45 s" in text
    assert alarms["ApiLatencyAlarm"]["Properties"]["Threshold"] == 3000 and "p99 above 3 s" in text
    assert alarms["Api5xxAlarm"]["Properties"]["Threshold"] == 0.01 and "above 1 % of requests" in text
    for queue in ("SyncQueue", "CommunicationsQueue", "ReportsQueue"):
        mc = re.search(rf"\| SQS {queue} \| \d+ \| (\d+) \|", text)
        assert mc is not None
