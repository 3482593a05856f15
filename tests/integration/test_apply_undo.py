"""Applying recommendations against the simulated platforms, end to end through the gateway: dry run validates
and changes nothing; apply-then-undo restores the platform state (hypothesis over budget steps and pauses);
approvals are never self-granted; cooldowns and caps hold; a platform value that moved since is refused unless
forced; every apply is in audit_log with before/after and its triggering snapshot; the daily job applies live
rules through the same guards and leaves dry-run rules as marked recommendations."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import boto3
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from infra.local import lambda_runtime
from infra.local.poller import Poller, QueueBinding

N_CAMPAIGNS = 8


@pytest.fixture(scope="module")
def drain(stack):
    template = stack.template
    spec = template.functions["WorkerSyncFunction"]
    trigger = next(t for t in template.sqs_triggers if t.function == "WorkerSyncFunction")
    sqs = boto3.client("sqs", endpoint_url=stack.resources.endpoint)
    binding = QueueBinding(
        trigger,
        stack.resources.queue_urls[trigger.queue],
        stack.resources.attributes[(trigger.queue, "Arn")],
        lambda event: lambda_runtime.invoke(spec, event),
    )
    poller = Poller(sqs, [binding], wait_s=0)

    def run(max_batches: int = 200) -> None:
        for _ in range(max_batches):
            msgs = sqs.receive_message(QueueUrl=binding.queue_url, MaxNumberOfMessages=1)
            if not msgs.get("Messages"):
                return
            m = msgs["Messages"][0]
            sqs.change_message_visibility(
                QueueUrl=binding.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
            poller.poll_once(binding)
        raise AssertionError("queue did not drain")

    return run


def _sql(stack, sql: str, **params):
    engine = create_engine(stack.owner_url())
    with engine.begin() as conn:
        rows = conn.execute(text(sql), params)
        out = rows.all() if rows.returns_rows else None
    engine.dispose()
    return out


def settings_of(stack, world, **values) -> None:
    _sql(
        stack,
        "UPDATE tenants SET settings = settings || CAST(:s AS jsonb) WHERE id = :t",
        s=json.dumps(values),
        t=world.tenant_id,
    )


@pytest.fixture(scope="module")
def world(make_tenant_module, api, stack, drain):
    w = make_tenant_module()
    account = str(6_660_000_000 + uuid.uuid4().int % 1_000_000)
    spec = {
        "platform": "google_ads",
        "account_id": account,
        "name": "Apply test",
        "currency": "USD",
        "time_zone": "UTC",
        "history_days": 30,
        "campaigns": [
            {"id": f"{account[:6]}{i}", "name": f"Campaign {i}", "budget": str(50 + 10 * i)}
            for i in range(N_CAMPAIGNS)
        ],
    }
    httpx.post(f"{stack.sim_url}/_sim/accounts", json={"accounts": [spec]}).raise_for_status()
    body = {
        "platform": "google_ads",
        "credentials": {
            "customer_id": account,
            "developer_token": "dev",
            "client_id": "cid",
            "client_secret": "cs",
            "refresh_token": "1//rt",
        },
        "backfill_days": 30,
    }
    r = api.post(f"/api/v1/clients/{w.clients[0]}/connections", json=body, headers=w.owner.headers)
    assert r.status_code == 201, r.text
    drain()
    w.account = account
    w.campaigns = {
        ext: cid
        for ext, cid in _sql(
            stack,
            "SELECT external_id, id FROM campaigns WHERE tenant_id = :t ORDER BY external_id",
            t=w.tenant_id,
        )
    }
    assert len(w.campaigns) == N_CAMPAIGNS
    return w


def sim_campaign(stack, world, ext: str) -> dict:
    accounts = httpx.get(f"{stack.sim_url}/_sim/accounts").json()["accounts"]
    acct = next(a for a in accounts if a["account_id"] == world.account)
    return next(c for c in acct["campaigns"] if c["id"] == ext)


def make_rec(
    world,
    ext: str,
    *,
    budget: Decimal | None = None,
    status: str | None = None,
    before=None,
    target: tuple[str, Decimal] | None = None,
) -> str:
    """A proposed recommendation with one change on campaign `ext` (as the optimizer would store it)."""
    from strategist.adapters.db.models import Campaign, CampaignOptimization, OptimizationRecommendation
    from strategist.bootstrap import system_unit_of_work
    from strategist.services.optimization.recommend import budget_change, status_change, target_change

    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        camp = uow.session.get(Campaign, world.campaigns[ext])
        if target is not None:
            change = target_change(camp, *target)
        else:
            change = budget_change(camp, budget) if budget is not None else status_change(camp, status)
        if before is not None:
            change["before"] = str(before)
        opt = CampaignOptimization(
            tenant_id=world.tenant_id,
            client_id=camp.client_id,
            campaign_id=camp.id,
            optimization_type="performance",
            implementation_priority="medium",
        )
        uow.session.add(opt)
        uow.session.flush()
        rec = OptimizationRecommendation(
            tenant_id=world.tenant_id,
            optimization_id=opt.id,
            client_id=camp.client_id,
            campaign_id=camp.id,
            kind="scale_budget" if budget is not None else "pause",
            title="test change",
            rationale="test",
            priority="medium",
            confidence=Decimal("0.9"),
            evidence={"window": {"start": "2026-01-01", "end": "2026-01-14"}, "spend": "123.45"},
            changes=[change],
        )
        uow.session.add(rec)
        uow.session.flush()
        return str(rec.id)


def apply(api, actor, rec, **body):
    return api.post(f"/api/v1/recommendations/{rec}/apply", json=body, headers=actor.headers)


def budget(stack, world, ext) -> Decimal:
    return Decimal(sim_campaign(stack, world, ext)["budget"])


def test_dry_run_validates_with_the_platform_and_changes_nothing(api, world, stack):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000)
    ext = sorted(world.campaigns)[0]
    start = budget(stack, world, ext)
    rec = make_rec(world, ext, budget=start * Decimal("0.9"))
    log_before = httpx.get(f"{stack.sim_url}/_sim/budget_log").json()["changes"]
    r = apply(api, world.analyst, rec)  # dry_run defaults to true
    assert r.status_code == 200, r.text
    d = r.json()["data"]
    assert d["dry_run"] and d["outcome"] == "validated" and d["recommendation"]["status"] == "proposed"
    req = d["requests"][0]
    assert req["validated_by_platform"] and req["request"]["validateOnly"] is True
    assert req["request"]["operations"][0]["update"]["amountMicros"] == str(
        int(start * Decimal("0.9") * 10**6)
    )
    assert httpx.get(f"{stack.sim_url}/_sim/budget_log").json()["changes"] == log_before
    assert budget(stack, world, ext) == start


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.integers(-30, 30).filter(lambda x: x != 0), pause=st.booleans())
def test_apply_then_undo_restores_the_platform(api, world, stack, step, pause):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000, max_change_pct=30)
    ext = sorted(world.campaigns)[1]
    start, status = budget(stack, world, ext), sim_campaign(stack, world, ext)["status"]
    assert status == "active"
    after = (start * (100 + step) / 100).quantize(Decimal("0.01"))
    rec = make_rec(world, ext, status="paused") if pause else make_rec(world, ext, budget=after)
    r = apply(api, world.analyst, rec, dry_run=False)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["outcome"] == "applied"
    moved = sim_campaign(stack, world, ext)
    assert moved["status"] == "paused" if pause else Decimal(moved["budget"]) == after
    u = api.post(f"/api/v1/recommendations/{rec}/undo", json={}, headers=world.analyst.headers)
    assert u.status_code == 200, u.text
    back = sim_campaign(stack, world, ext)
    assert Decimal(back["budget"]) == start and back["status"] == "active"
    assert u.json()["data"]["recommendation"]["status"] == "undone"
    audit = _sql(
        stack,
        "SELECT action, before, after FROM audit_log WHERE entity_id = :r ORDER BY id",
        r=rec,
    )
    assert [a[0] for a in audit] == ["recommendation.apply", "recommendation.undo"]
    applied = audit[0]
    assert applied[2]["trigger_snapshot"]["spend"] == "123.45"
    field = "status" if pause else "daily_budget"
    cid = str(world.campaigns[ext])
    recorded = applied[1]["platform"][cid][field]
    assert recorded == "active" if pause else Decimal(recorded) == start


@pytest.mark.parametrize("requester", ["admin", "owner"])
def test_approval_is_never_self_granted(api, world, stack, requester):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=20)
    ext = sorted(world.campaigns)[2 if requester == "admin" else 3]
    start = budget(stack, world, ext)
    rec = make_rec(world, ext, budget=(start * Decimal("1.25")).quantize(Decimal("0.01")))
    who = getattr(world, requester)
    r = apply(api, who, rec, dry_run=False)
    assert r.status_code == 202, r.text
    d = r.json()["data"]
    assert d["outcome"] == "pending_approval" and "approval threshold 20" in d["requires_approval"][0]
    assert budget(stack, world, ext) == start  # nothing changed yet
    assert apply(api, who, rec, dry_run=False).status_code == 409  # awaiting approval
    own = api.post(f"/api/v1/recommendations/{rec}/approve", json={}, headers=who.headers)
    assert own.status_code == 403 and "requester cannot approve" in own.text
    assert (
        api.post(f"/api/v1/recommendations/{rec}/approve", json={}, headers=world.analyst.headers).status_code
        == 403
    )
    approver = world.owner if requester == "admin" else world.admin
    ok = api.post(f"/api/v1/recommendations/{rec}/approve", json={"note": "fine"}, headers=approver.headers)
    assert ok.status_code == 200, ok.text
    got = ok.json()["data"]["recommendation"]
    assert got["status"] == "applied" and got["approved_by"] == f"user:{approver.user_id}"
    assert got["requested_by"] == f"user:{who.user_id}"
    assert budget(stack, world, ext) == (start * Decimal("1.25")).quantize(Decimal("0.01"))


def test_cooldown_holds_and_undo_is_not_blocked(api, world, stack):
    settings_of(stack, world, cooldown_hours=72, approval_threshold_pct=1000)
    ext = sorted(world.campaigns)[4]
    start = budget(stack, world, ext)
    first = make_rec(world, ext, budget=(start * Decimal("0.9")).quantize(Decimal("0.01")))
    assert apply(api, world.analyst, first, dry_run=False).status_code == 200
    now = budget(stack, world, ext)
    second = make_rec(world, ext, budget=(now * Decimal("0.95")).quantize(Decimal("0.01")))
    dry = apply(api, world.analyst, second).json()["data"]
    assert any("72 h cooldown" in b for b in dry["blocked_by"])
    r = apply(api, world.analyst, second, dry_run=False)
    assert r.status_code == 409 and "cooldown" in r.text
    assert budget(stack, world, ext) == now
    assert (
        api.post(f"/api/v1/recommendations/{first}/undo", json={}, headers=world.analyst.headers).status_code
        == 200
    )
    assert budget(stack, world, ext) == start


def test_caps_hold(api, world, stack):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000, max_change_pct=30)
    ext = sorted(world.campaigns)[5]
    start = budget(stack, world, ext)
    rec = make_rec(world, ext, budget=(start * Decimal("1.5")).quantize(Decimal("0.01")))
    r = apply(api, world.owner, rec, dry_run=False)
    assert r.status_code == 422 and "30" in r.text and "cap" in r.text
    assert r.json()["error"]["fields"][0]["field"] == "recommendation.changes"
    assert budget(stack, world, ext) == start


def test_a_moved_platform_value_is_refused_unless_forced(api, world, stack):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000, max_change_pct=30)
    ext = sorted(world.campaigns)[6]
    start = budget(stack, world, ext)
    stale = start + 7  # what we believed the budget was
    rec = make_rec(world, ext, budget=(stale * Decimal("0.9")).quantize(Decimal("0.01")), before=stale)
    r = apply(api, world.analyst, rec, dry_run=False)
    assert r.status_code == 409 and f"the platform value is {start}" in r.text
    ok = apply(api, world.analyst, rec, dry_run=False, force=True)
    assert ok.status_code == 200 and budget(stack, world, ext) == (stale * Decimal("0.9")).quantize(
        Decimal("0.01")
    )
    # someone edits the budget on the platform: undo refuses to overwrite it unless forced
    other = make_rec(world, ext, budget=budget(stack, world, ext) + 1)
    assert apply(api, world.analyst, other, dry_run=False).status_code == 200
    r = api.post(f"/api/v1/recommendations/{rec}/undo", json={}, headers=world.analyst.headers)
    assert r.status_code == 409 and "changed since" not in r.text and "platform value" in r.text
    r = api.post(f"/api/v1/recommendations/{rec}/undo", json={"force": True}, headers=world.analyst.headers)
    assert r.status_code == 200 and budget(stack, world, ext) == start


def test_viewer_and_other_tenant_cannot_apply(api, world, stack, make_tenant):
    ext = sorted(world.campaigns)[0]
    rec = make_rec(world, ext, budget=budget(stack, world, ext))
    for action in ("apply", "approve", "undo"):
        for actor in (world.viewer, world.viewer_key):
            r = api.post(f"/api/v1/recommendations/{rec}/{action}", json={}, headers=actor.headers)
            assert r.status_code == 403, (action, r.text)
    outsider = make_tenant()
    r = api.post(
        f"/api/v1/recommendations/{rec}/apply", json={"dry_run": False}, headers=outsider.owner.headers
    )
    assert r.status_code == 404


def test_job_applies_live_rules_and_only_marks_dry_run_ones(api, world, stack):
    from strategist import bootstrap
    from strategist.services.optimization import job
    from strategist.services.optimization.apply import Platforms

    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000)
    live_ext, dry_ext = sorted(world.campaigns)[7], sorted(world.campaigns)[5]
    live = api.post(
        "/api/v1/rules",
        json={
            "name": "stop spenders",
            "campaign_ids": [str(world.campaigns[live_ext])],
            "metric": "spend",
            "operator": ">",
            "threshold": 1,
            "window_days": 7,
            "action": "pause",
            "mode": "live",
        },
        headers=world.admin.headers,
    )
    assert live.status_code == 201, live.text
    dry = api.post(
        "/api/v1/rules",
        json={
            "name": "trim spenders (dry run)",
            "campaign_ids": [str(world.campaigns[dry_ext])],
            "metric": "spend",
            "operator": ">",
            "threshold": 1,
            "window_days": 7,
            "action": "scale_budget",
            "action_value": -10,
        },
        headers=world.analyst.headers,
    )
    assert dry.status_code == 201, dry.text
    dry_budget = budget(stack, world, dry_ext)
    today = dt.date.fromisoformat(httpx.get(f"{stack.sim_url}/_sim/clock").json()["today"])
    totals = job.run(
        lambda: bootstrap.system_unit_of_work("test"),
        Platforms(cipher=bootstrap.credential_cipher(), connectors=bootstrap.connect),
        today=today,
        tenant_ids=[world.tenant_id],
    )
    assert totals["errors"] == 0 and totals["campaigns"] >= 1
    assert totals["rules"]["applied"] == 1
    assert sim_campaign(stack, world, live_ext)["status"] == "paused"
    assert budget(stack, world, dry_ext) == dry_budget
    recs = api.get(
        "/api/v1/recommendations",
        params={"campaign_id": str(world.campaigns[dry_ext]), "limit": 200},
        headers=world.owner.headers,
    ).json()["data"]["items"]
    marked = [r for r in recs if r["rule_id"] == dry.json()["rule"]["id"]]
    assert len(marked) == 1 and marked[0]["dry_run"] and marked[0]["status"] == "proposed"
    assert Decimal(marked[0]["changes"][0]["after"]) == (dry_budget * Decimal("0.9")).quantize(
        Decimal("0.01")
    )


def test_target_cpa_is_read_live_capped_applied_and_undone(api, world, stack):
    settings_of(stack, world, cooldown_hours=0, approval_threshold_pct=1000, max_change_pct=30)
    ext = sorted(world.campaigns)[3]

    def bidding():
        return sim_campaign(stack, world, ext)["bidding"]

    assert bidding()["type"] == "MAXIMIZE_CONVERSIONS" and bidding()["target_cpa_micros"] is None
    first = make_rec(world, ext, target=("target_cpa", Decimal(40)))
    dry = apply(api, world.analyst, first).json()["data"]
    req = dry["requests"][0]
    assert req["platform_before"] is None and req["validated_by_platform"]
    assert req["request"]["operations"][0] == {
        "updateMask": "maximize_conversions.target_cpa_micros",
        "update": {
            "resourceName": f"customers/{world.account}/campaigns/{ext}",
            "maximizeConversions": {"targetCpaMicros": "40000000"},
        },
    }
    assert bidding()["target_cpa_micros"] is None  # validateOnly
    assert apply(api, world.analyst, first, dry_run=False).status_code == 200
    assert bidding()["target_cpa_micros"] == 40_000_000
    too_far = make_rec(world, ext, target=("target_cpa", Decimal(80)))  # +100 % from the live 40
    r = apply(api, world.analyst, too_far, dry_run=False)
    assert r.status_code == 422 and "exceeds the ±30 % cap" in r.text
    second = make_rec(world, ext, target=("target_cpa", Decimal(44)))
    ok = apply(api, world.analyst, second, dry_run=False)
    assert ok.status_code == 200 and Decimal(ok.json()["data"]["requests"][0]["platform_before"]) == 40
    assert bidding()["target_cpa_micros"] == 44_000_000
    assert (
        api.post(f"/api/v1/recommendations/{second}/undo", json={}, headers=world.analyst.headers).status_code
        == 200
    )
    assert bidding()["target_cpa_micros"] == 40_000_000
    r = api.post(f"/api/v1/recommendations/{first}/undo", json={}, headers=world.analyst.headers)
    assert r.status_code == 200, r.text
    assert bidding()["target_cpa_micros"] is None  # cleared: the campaign had no target before
    wrong = make_rec(world, ext, target=("target_roas", Decimal("3.5")))  # owned by another strategy
    r = apply(api, world.analyst, wrong)
    assert r.status_code == 409 and "bids with MAXIMIZE_CONVERSIONS" in r.text
