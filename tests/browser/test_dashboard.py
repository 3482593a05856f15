"""The dashboard in a real browser (Debian's Chromium through Playwright) against the session's local stack:
sign-in, token refresh and sign-out, the agency overview, a generated strategy with its fan chart, and a client
viewer confined to its own client in the UI and by direct URL."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.stack]


@pytest.fixture(scope="module")
def world(make_tenant_module: Any) -> Any:
    return make_tenant_module("Browser agency")


def _client_names(world: Any, api: Any) -> list[str]:
    return [
        api.get(f"/api/v1/clients/{c}", headers=world.owner.headers).json()["data"]["name"]
        for c in world.clients
    ]


def test_sign_in_overview_refresh_and_sign_out(page: Any, world: Any, api: Any, live_url: str) -> None:
    names = _client_names(world, api)
    sign_in(page, world.owner.email, world.owner.password)
    page.wait_for_url(re.compile(r"/$"))
    table = page.get_by_test_id("overview-table")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert sorted(rows.locator("td:first-child a").all_inner_texts()) == sorted(names)
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    assert nav.all_inner_texts() == ["Overview", "Strategy builder", "Budget planner"]
    assert page.get_by_test_id("role").inner_text() == "owner"

    # Filter and sort act on the rows.
    page.get_by_label("Filter clients").fill(names[1])
    assert rows.count() == 1 and rows.first.locator("td:first-child a").inner_text() == names[1]
    page.get_by_label("Filter clients").fill("")
    page.get_by_role("button", name=re.compile("^Client")).click()  # sort by name, ascending
    assert rows.locator("td:first-child a").all_inner_texts() == sorted(names, key=str.lower)
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("Client")

    # PWA: the service worker is active and its cache holds the shell only, never API data.
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)").endswith("/sw.js")
    page.reload()  # now controlled by the worker, which sees every request
    page.get_by_test_id("overview-table").wait_for()
    cached = page.evaluate(
        "caches.open('ms-shell-v1').then((c) => c.keys()).then((k) => k.map((r) => r.url))"
    )
    assert any(u.endswith("/") for u in cached) and any("/assets/" in u for u in cached)
    assert not [u for u in cached if "/api/" in u or "/health" in u]

    # A reload resumes the session with the refresh token, which rotates (the old one is spent).
    first = page.evaluate("sessionStorage.getItem('ms.refresh')")
    page.reload()
    page.get_by_test_id("overview-table").wait_for()
    second = page.evaluate("sessionStorage.getItem('ms.refresh')")
    assert first and second and first != second

    # Sign-out revokes the refresh token on the server and returns to the sign-in page.
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url("**/signin")
    assert page.evaluate("sessionStorage.getItem('ms.refresh')") is None
    r = httpx.post(f"{live_url}/api/v1/auth/refresh", json={"refresh_token": second})
    assert r.status_code == 401
    page.goto("/")  # signed out: every page sends you to sign in, remembering where you were going
    page.wait_for_url("**/signin**")


def test_wrong_password_is_an_error_on_the_form(page: Any, world: Any) -> None:
    sign_in(page, world.owner.email, "not the password at all")
    alert = page.locator("#signin-error")
    alert.wait_for()
    assert "not correct" in alert.inner_text()
    assert page.url.endswith("/signin")


def test_generate_a_strategy_and_see_its_fan_chart(page: Any, world: Any, api: Any) -> None:
    client = world.clients[0]
    sign_in(page, world.analyst.email, world.analyst.password)
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name="Strategy builder").click()
    page.wait_for_url("**/strategy")
    page.get_by_label("Client").select_option(str(client))
    page.get_by_label("Campaign name").fill("Browser spring launch")
    page.get_by_label(re.compile("^Total budget")).fill("12000")
    page.get_by_label("Duration (days)").fill("28")
    page.get_by_role("button", name="Generate strategy").click()

    fan = page.get_by_test_id("fan-chart")
    fan.wait_for(state="visible", timeout=40_000)
    box = fan.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 150
    # The chart is drawn: some canvas pixels are not blank.
    painted = page.evaluate(
        """() => { const c = document.querySelector('[data-testid=fan-chart]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
    )
    assert painted > 1000

    # Its table view has the same weeks, each with p10 <= p50 <= p90.
    fan_card = page.locator(".card", has=page.get_by_test_id("fan-chart"))
    fan_card.get_by_role("button", name="Show table").click()
    rows = page.get_by_test_id("fan-table").locator("tbody tr")
    assert rows.count() == 4  # 28 days = 4 weeks
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        p10, p50, p90 = (float(c.replace(",", "")) for c in cells[3:6])
        assert p10 <= p50 <= p90

    # The plan was saved: the API lists it for the client with the same name.
    listed = api.get("/api/v1/strategies", params={"client_id": str(client)}, headers=world.owner.headers)
    assert "Browser spring launch" in [s["name"] for s in listed.json()["data"]["items"]]
    assert page.get_by_text("Browser spring launch · v1").is_visible()


def test_client_viewer_sees_only_its_own_client(page: Any, world: Any, api: Any) -> None:
    other = world.clients[1]
    own_name, other_name = _client_names(world, api)
    sign_in(page, world.viewer.email, world.viewer.password)
    page.wait_for_url("**/portal")
    page.get_by_role("heading", name=own_name).wait_for()
    page.get_by_test_id("kpi-tiles").wait_for()
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    assert nav.all_inner_texts() == ["Client portal"]
    assert other_name not in page.content()
    # No write controls in the portal.
    assert page.get_by_role("button", name="Connect a platform").count() == 0
    assert page.get_by_role("link", name="New strategy").count() == 0

    # Direct URLs: another client's page is refused, agency pages lead back to the portal.
    page.goto(f"/clients/{other}")
    page.get_by_test_id("access-denied").wait_for()
    assert other_name not in page.content()
    page.goto("/")
    page.wait_for_url("**/portal")
    page.goto("/strategy")
    page.wait_for_url("**/portal")
    # And the API behind the page refuses the other client outright.
    r = api.get(f"/api/v1/clients/{other}", headers=world.viewer.headers)
    assert r.status_code in (403, 404)


def _open_alert(world: Any, api: Any, title: str) -> str:
    """An open alert on client 0, as the evaluation job leaves one: the rule through the API, the alert row as
    job_alerts writes it (the evaluation itself is the alerts slice's to test)."""
    from strategist.adapters.db.models import Alert
    from strategist.bootstrap import system_unit_of_work

    r = api.post(
        "/api/v1/alerts/rules",
        json={
            "client_id": str(world.clients[0]),
            "name": f"CPA ceiling {title}",
            "kind": "threshold",
            "params": {"metric": "cpa", "comparator": "gt", "value": 40, "window_days": 7},
            "severity": "critical",
        },
        headers=world.owner.headers,
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["data"]["id"]
    with system_unit_of_work("test") as uow:
        uow.set_tenant(world.tenant_id)
        alert = Alert(
            tenant_id=world.tenant_id,
            client_id=world.clients[0],
            rule_id=rule_id,
            object_key=f"client:{world.clients[0]}:{title}",
            kind="threshold",
            severity="critical",
            title=title,
            message="CPA 52.10 over the last 7 days is above the ceiling 40.00.",
            evidence={"observed": "52.10", "threshold": "40", "window_days": 7},
        )
        uow.session.add(alert)
        uow.session.flush()
        return str(alert.id)


def test_alerts_are_counted_in_the_overview_and_acknowledged_or_snoozed(
    page: Any, world: Any, api: Any
) -> None:
    first = _open_alert(world, api, "CPA above ceiling (browser A)")
    second = _open_alert(world, api, "CPA above ceiling (browser B)")
    sign_in(page, world.analyst.email, world.analyst.password)
    row = page.get_by_test_id("overview-table").locator("tbody tr", has_text=_client_names(world, api)[0])
    assert "2 open, 2 critical" in row.inner_text()

    row.locator("td:first-child a").click()
    alerts = page.get_by_test_id("alerts")
    item_a = alerts.locator("li", has_text="browser A")
    item_a.get_by_role("button", name="Acknowledge").click()
    item_a.get_by_text("acknowledged").wait_for()
    item_b = alerts.locator("li", has_text="browser B")
    item_b.get_by_role("button", name="Snooze 7 days").click()
    item_b.get_by_text("snoozed until").wait_for()

    states = {
        a["id"]: a
        for a in api.get(
            "/api/v1/alerts", params={"client_id": str(world.clients[0])}, headers=world.owner.headers
        ).json()["data"]["items"]
    }
    assert states[first]["state"] == "acknowledged" and states[first]["acknowledged_by"]
    assert states[second]["state"] == "snoozed"
    import datetime as dt

    until = dt.datetime.fromisoformat(states[second]["snoozed_until"].replace("Z", "+00:00"))
    assert dt.timedelta(days=6, hours=23) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)


def test_keyboard_only_sign_in_and_sorting(page: Any, world: Any) -> None:
    page.goto("/signin")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(world.owner.email)
    page.keyboard.press("Tab")
    page.keyboard.type(world.owner.password)
    page.keyboard.press("Enter")
    page.get_by_test_id("overview-table").locator("tbody tr").first.wait_for()
    sort_by_cpa = page.get_by_role("button", name=re.compile("^CPA"))
    sort_by_cpa.focus()
    page.keyboard.press("Enter")
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("CPA")
    page.keyboard.press("Enter")
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("CPA")
    # Focus is visible: the focused control draws an outline.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")


def test_assistant_answers_in_the_client_view(page: Any, world: Any) -> None:
    sign_in(page, world.analyst.email, world.analyst.password)
    page.get_by_test_id("overview-table").wait_for()
    page.goto(f"/clients/{world.clients[0]}")
    page.get_by_role("button", name="Ask the assistant").click()
    panel = page.get_by_role("complementary", name="Assistant")
    page.wait_for_function("document.activeElement?.id === 'chat-input'")  # focus moves into the panel
    page.keyboard.type("How much did we spend in the last 30 days?")
    page.keyboard.press("Enter")
    answer = panel.locator("#chat-log .bg-slate-50")
    answer.first.wait_for()
    assert answer.first.inner_text().strip()
    assert panel.get_by_role("alert").count() == 0  # the error line stays hidden
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden", timeout=5_000)  # closing may animate; waits instead of sampling once
