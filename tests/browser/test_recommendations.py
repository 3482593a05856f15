"""Approve and undo a recommendation in a real browser against the session's local stack (issue 8): a client
connected to the platform simulator through the API and synced by the real worker; in the client view an analyst
finds recommendations for the campaign, previews the dry run (the exact Google Ads request, nothing changed on the
platform), applies it and gets a pending approval (a 30 % raise is above the 20 % approval threshold); the analyst
has no approve button and the API refuses them; an admin approves in their own session and the simulator holds
the new budget; undo puts the simulator's campaign back exactly as it was."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.browser.conftest import connect_simulated_account, sign_in, sim_campaign

pytestmark = [pytest.mark.browser, pytest.mark.stack]

EXT_ID = "9001"
START = Decimal("100.00")
# An unsaturated revenue curve (half saturation far above the spend): the fitted marginal ROAS is well above 1,
# so the optimizer raises the budget by the whole ±30 % cap.
CURVE = {"aov": 120, "max_conversions": 40, "half_saturation": 600}
CAMPAIGNS = [
    {"id": EXT_ID, "name": "Search brand", "budget": str(START), "curve": CURVE},
    {"id": "9002", "name": "Search generic", "budget": "80", "curve": CURVE},
]


@pytest.fixture(scope="module")
def world(make_tenant_module: Any, stack: Any, api: Any, drain_sync: Any) -> Any:
    w = make_tenant_module("Browser recommendations")
    w.account = connect_simulated_account(stack, api, drain_sync, w, CAMPAIGNS)
    return w


def _budget_log(stack: Any, account_campaign: str) -> list[dict[str, Any]]:
    log = httpx.get(f"{stack.sim_url}/_sim/budget_log").json()["changes"]
    return [c for c in log if c["campaign_id"] == account_campaign]


def _toast(page: Any, message: str) -> None:
    """The page's notification (a polite live region) says exactly `message`."""
    toast = page.get_by_role("status").filter(has_text=message)
    toast.wait_for()
    assert toast.inner_text().strip() == message


def _rec(api: Any, world: Any, rec_id: str) -> dict[str, Any]:
    r = api.get(
        "/api/v1/recommendations", params={"client_id": str(world.clients[0])}, headers=world.owner.headers
    )
    assert r.status_code == 200, r.text
    return next(x for x in r.json()["data"]["items"] if x["id"] == rec_id)


def test_find_preview_apply_approve_and_undo(
    page: Any, browser: Any, live_url: str, world: Any, api: Any, stack: Any
) -> None:
    original = sim_campaign(stack, world.account, EXT_ID)
    assert Decimal(original["budget"]) == START and original["status"] == "active"
    log_before = _budget_log(stack, EXT_ID)

    # -- the analyst finds recommendations for the campaign ---------------------------------------------------
    sign_in(page, world.analyst.email, world.analyst.password)
    page.get_by_test_id("overview-table").wait_for()
    page.goto(f"/clients/{world.clients[0]}")
    page.get_by_role("button", name="Insights for Search brand").click()
    recs = page.get_by_test_id("recommendations")
    recs.get_by_role("button", name="Find recommendations for Search brand").click()
    item = recs.locator("li[data-rec-status]", has_text="Raise the daily budget of Search brand by 30 %")
    item.wait_for()
    assert item.get_attribute("data-rec-status") == "proposed"
    assert "daily_budget 100.00 → 130.00 USD" in item.inner_text()
    assert "raises the daily budget by 30.0 % > the approval threshold 20 %" in item.inner_text()

    listed = api.get(
        "/api/v1/recommendations", params={"client_id": str(world.clients[0])}, headers=world.owner.headers
    ).json()["data"]["items"]
    (rec,) = [r for r in listed if r["kind"] == "scale_budget" and r["changes"][0]["external_id"] == EXT_ID]
    change = rec["changes"][0]
    assert (change["external_id"], change["before"], change["after"]) == (EXT_ID, "100.00", "130.00")

    # -- dry run: the exact request the platform would receive, and nothing changed -------------------------
    item.get_by_role("button", name="Preview (dry run)").click()
    preview = item.get_by_test_id("rec-preview")
    preview.wait_for()
    (shown,) = [json.loads(t) for t in preview.locator("pre").all_inner_texts()]
    assert shown["platform"] == "google_ads" and shown["action"] == "set_budget"
    # platform_before is what the platform holds right now (read live), the request moves it to 130.
    assert (Decimal(shown["platform_before"]), Decimal(shown["after"])) == (START, Decimal("130.00"))
    request = shown["request"]
    assert request["validateOnly"] is True
    (operation,) = request["operations"]
    assert operation["update"]["amountMicros"] == str(130 * 10**6)
    assert shown["validated_by_platform"] is True
    assert "Applying needs approval" in preview.inner_text()
    assert sim_campaign(stack, world.account, EXT_ID) == original
    assert _budget_log(stack, EXT_ID) == log_before

    # -- apply by the analyst: above the approval threshold, so it waits for an owner or admin ---------------
    item.get_by_role("button", name="Apply").click()
    pending = recs.locator("li[data-rec-status=pending_approval]")
    pending.wait_for()
    _toast(page, "Sent for approval by an owner or admin.")
    assert pending.get_by_test_id("rec-status").inner_text() == "pending approval"
    # The requester cannot approve: no button in the page, and the API refuses outright.
    assert pending.get_by_role("button", name="Approve and apply").count() == 0
    assert pending.get_by_role("button").count() == 0  # no apply / preview / undo while it waits
    assert (
        pending.get_by_test_id("rec-approval-note").inner_text()
        == "You asked to apply this: another owner or admin must approve it."
    )
    refused = api.post(f"/api/v1/recommendations/{rec['id']}/approve", json={}, headers=world.analyst.headers)
    assert refused.status_code == 403
    assert Decimal(sim_campaign(stack, world.account, EXT_ID)["budget"]) == START
    state = _rec(api, world, rec["id"])
    assert state["status"] == "pending_approval" and state["requested_by"] == f"user:{world.analyst.user_id}"

    # -- an admin approves in their own session: applied on the platform -------------------------------------
    admin = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    admin.set_default_timeout(20_000)
    apage = admin.new_page()
    errors: list[str] = []
    apage.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(apage, world.admin.email, world.admin.password)
        apage.get_by_test_id("overview-table").wait_for()
        apage.goto(f"/clients/{world.clients[0]}")
        arecs = apage.get_by_test_id("recommendations")
        waiting = arecs.locator("li[data-rec-status=pending_approval]")
        waiting.get_by_role("button", name="Approve and apply").click()
        applied = arecs.locator("li[data-rec-status=applied]")
        applied.wait_for()
        _toast(apage, "Applied on the platform.")
        now = sim_campaign(stack, world.account, EXT_ID)
        assert Decimal(now["budget"]) == Decimal("130.00")
        assert {k: v for k, v in now.items() if k != "budget"} == {
            k: v for k, v in original.items() if k != "budget"
        }
        log = _budget_log(stack, EXT_ID)[len(log_before) :]
        assert [Decimal(c["amount"]) for c in log] == [Decimal("130.00")]
        state = _rec(api, world, rec["id"])
        assert state["status"] == "applied"
        assert state["approved_by"] == f"user:{world.admin.user_id}"
        assert state["requested_by"] == f"user:{world.analyst.user_id}"

        # -- undo: the simulator's campaign is exactly what it was ---------------------------------------
        applied.get_by_role("button", name="Undo").click()
        arecs.locator("li[data-rec-status=undone]").wait_for()
        _toast(apage, "Undone: the platform is back to its previous value.")
        restored = sim_campaign(stack, world.account, EXT_ID)
        assert Decimal(restored.pop("budget")) == START  # the simulator keeps micros/10^6, e.g. 1E+2
        assert restored == {k: v for k, v in original.items() if k != "budget"}
        log = _budget_log(stack, EXT_ID)[len(log_before) :]
        assert [Decimal(c["amount"]) for c in log] == [Decimal("130.00"), Decimal("100.00")]
        assert _rec(api, world, rec["id"])["status"] == "undone"
        assert arecs.locator("li[data-rec-status=undone]").get_by_role("button").count() == 0
    finally:
        admin.close()
    assert not errors, f"uncaught errors in the admin's page: {errors}"

    # The analyst's page shows the outcome after a reload, too.
    page.reload()
    recs.locator("li[data-rec-status=undone]").wait_for()


def test_an_admin_cannot_approve_their_own_request(
    page: Any, browser: Any, live_url: str, world: Any, api: Any, stack: Any
) -> None:
    """Four eyes hold for admins too: the requester gets no approve button, a note saying why, and a 403."""
    original = sim_campaign(stack, world.account, "9002")
    sign_in(page, world.admin.email, world.admin.password)
    page.get_by_test_id("overview-table").wait_for()
    page.goto(f"/clients/{world.clients[0]}")
    page.get_by_role("button", name="Insights for Search generic").click()
    recs = page.get_by_test_id("recommendations")
    recs.get_by_role("button", name="Find recommendations for Search generic").click()
    item = recs.locator("li[data-rec-status=proposed]", has_text="Raise the daily budget of Search generic")
    item.get_by_role("button", name="Apply").click()
    pending = recs.locator("li[data-rec-status=pending_approval]", has_text="Search generic")
    pending.wait_for()
    assert "daily_budget 80.00 → 104.00 USD" in pending.inner_text()
    assert pending.get_by_role("button", name="Approve and apply").count() == 0
    assert (
        pending.get_by_test_id("rec-approval-note").inner_text()
        == "You asked to apply this: another owner or admin must approve it."
    )
    listed = api.get(
        "/api/v1/recommendations", params={"client_id": str(world.clients[0])}, headers=world.owner.headers
    ).json()["data"]["items"]
    (rec,) = [r for r in listed if r["status"] == "pending_approval"]
    own = api.post(f"/api/v1/recommendations/{rec['id']}/approve", json={}, headers=world.admin.headers)
    assert own.status_code == 403 and "requester cannot approve" in own.text
    assert sim_campaign(stack, world.account, "9002") == original

    # An analyst who did not ask sees that it waits for an owner or admin, and no button either.
    other = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    other.set_default_timeout(20_000)
    try:
        opage = other.new_page()
        sign_in(opage, world.analyst.email, world.analyst.password)
        opage.get_by_test_id("overview-table").wait_for()
        opage.goto(f"/clients/{world.clients[0]}")
        waiting = opage.get_by_test_id("recommendations").locator(
            "li[data-rec-status=pending_approval]", has_text="Search generic"
        )
        note = waiting.get_by_test_id("rec-approval-note")
        note.wait_for()
        assert note.inner_text() == "Waiting for an owner or admin to approve it."
        assert waiting.get_by_role("button").count() == 0
    finally:
        other.close()

    # The owner approves; 104.00 is applied on the platform.
    ok = api.post(f"/api/v1/recommendations/{rec['id']}/approve", json={}, headers=world.owner.headers)
    assert ok.status_code == 200, ok.text
    assert Decimal(sim_campaign(stack, world.account, "9002")["budget"]) == Decimal("104.00")
