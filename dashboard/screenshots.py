"""Regenerate dashboard/screenshots/*.png: a fresh local stack with demo data, Debian's Chromium through
Playwright, every main page at desktop width and the overview and client view at phone width.

    .venv/bin/python dashboard/screenshots.py        (make screenshots)"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devstack import CHROMIUM, CHROMIUM_FLAGS, make_user, make_viewer, running_stack, set_branding

OUT = Path(__file__).resolve().parent / "screenshots"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/signin")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/signin"))


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(exist_ok=True)
    started = time.monotonic()
    with running_stack() as (base, demo), sync_playwright() as p:
        tenant = demo["tenants"][0]
        owner = tenant["owner"]
        client = tenant["client_ids"][0]
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)

        def shoot(name: str, page, *, full: bool = True) -> None:
            page.wait_for_timeout(400)  # charts are drawn without animation; let layout settle
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
            print("wrote", OUT / f"{name}.png")

        desktop = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
        desktop.set_default_timeout(60_000)
        page = desktop.new_page()
        page.goto("/signin")
        page.get_by_label("E-mail").fill(owner["email"])
        shoot("01-sign-in", page, full=False)
        sign_in(page, owner["email"], owner["password"])
        page.get_by_test_id("overview-table").wait_for()
        shoot("02-agency-overview", page)

        page.goto(f"/clients/{client}")
        page.get_by_test_id("kpi-tiles").wait_for()
        page.locator("#chart-drivers").wait_for(state="visible")
        shoot("03-client-view", page)

        # Recommendations: find, preview (dry run), apply (-> approval), then an admin approves and undoes.
        recs = page.get_by_test_id("recommendations")
        recs.get_by_role("button", name="Find recommendations").click()
        item = recs.locator("li[data-rec-status]").first
        item.wait_for()
        preview = item.get_by_role("button", name="Preview (dry run)")
        if preview.count():
            preview.click()
            item.get_by_test_id("rec-preview").wait_for()
            recs.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            recs.screenshot(path=str(OUT / "03b-recommendation-preview.png"))
            print("wrote", OUT / "03b-recommendation-preview.png")
            item.get_by_role("button", name="Apply").click()
            page.wait_for_function(
                "() => { const li = document.querySelector('[data-testid=recommendations] li[data-rec-status]');"
                " return li && ['pending_approval', 'applied'].includes(li.dataset.recStatus); }"
            )
        status = recs.locator("li[data-rec-status]").first.get_attribute("data-rec-status")
        print("recommendation after apply:", status)
        if status == "pending_approval":
            admin_email, admin_password = make_user(base, demo, "admin")
            admin = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
            admin.set_default_timeout(60_000)
            apage = admin.new_page()
            sign_in(apage, admin_email, admin_password)
            apage.goto(f"/clients/{client}")
            arecs = apage.get_by_test_id("recommendations")
            arecs.locator("li[data-rec-status=pending_approval]").first.get_by_role(
                "button", name="Approve and apply"
            ).click()
            arecs.locator("li[data-rec-status=applied]").first.wait_for()
            arecs.locator("li[data-rec-status=applied]").first.get_by_role("button", name="Undo").click()
            arecs.locator("li[data-rec-status=undone]").first.wait_for()
            print("recommendation approved, applied and undone by an admin")
            admin.close()
        elif status == "applied":
            recs.locator("li[data-rec-status=applied]").first.get_by_role("button", name="Undo").click()
            recs.locator("li[data-rec-status=undone]").first.wait_for()
            print("recommendation applied and undone")

        # Reports: generate last month's, preview the rendered HTML.
        reports = page.get_by_test_id("reports")
        reports.get_by_role("button", name="Generate report").click()
        page.get_by_test_id("report-preview").wait_for()
        page.frame_locator("iframe[title='Report preview']").locator("h1").first.wait_for()
        reports.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        reports.screenshot(path=str(OUT / "03c-report-preview.png"))
        print("wrote", OUT / "03c-report-preview.png")

        page.goto(f"/strategy?client={client}")
        page.get_by_label("Campaign name").fill("Spring launch")
        page.get_by_label("Total budget (USD)").fill("20000")
        page.get_by_label("Duration (days)").fill("30")
        page.get_by_role("button", name="Generate strategy").click()
        page.get_by_test_id("fan-chart").wait_for(state="visible")
        shoot("04-strategy-builder", page)

        page.goto(f"/budget?client={client}")
        page.get_by_test_id("budget-changes").wait_for()
        page.get_by_test_id("curves-chart").wait_for(state="visible")
        shoot("05-budget-planner", page)
        # The target mode re-runs the optimizer with the target and the total as a cap.
        before = page.get_by_test_id("budget-changes").inner_text()
        page.get_by_label("Goal").select_option("target_roas")
        page.get_by_label("Target ROAS").fill("12")
        page.wait_for_function(
            "(before) => { const t = document.querySelector('[data-testid=budget-changes]');"
            " return (t && t.innerText !== before) || [...document.querySelectorAll('[role=alert]')]"
            ".some((a) => a.offsetParent && a.innerText.trim()); }",
            arg=before,
        )
        errors = page.locator("[role=alert]:visible").all_inner_texts()
        print("budget planner, target ROAS 12:", errors or "re-optimized")
        desktop.close()

        set_branding(base, demo)
        email, password = make_viewer(base, demo)
        portal = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
        portal.set_default_timeout(60_000)
        page = portal.new_page()
        sign_in(page, email, password)
        page.get_by_test_id("kpi-tiles").wait_for()
        page.locator("#chart-trend").wait_for(state="visible")
        page.locator("#chart-drivers").wait_for(state="visible")
        shoot("06-client-portal", page)
        portal.close()

        phone = browser.new_context(
            base_url=base,
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        phone.set_default_timeout(60_000)
        page = phone.new_page()
        sign_in(page, owner["email"], owner["password"])
        page.get_by_test_id("overview-table").wait_for()
        shoot("07-phone-overview", page, full=False)
        page.goto(f"/clients/{client}")
        page.get_by_test_id("kpi-tiles").wait_for()
        shoot("08-phone-client-view", page, full=False)
        phone.close()
        browser.close()
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
