"""Browser fixtures: the gateway of the session's local stack served over real HTTP (uvicorn on a free port,
in a thread), and Debian's Chromium driven by Playwright. Without /usr/bin/chromium or a built dashboard the
browser tests skip with the reason; `make test` installs the one and builds the other first."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard_built() -> Path:
    index = ROOT / "dashboard" / "dist" / "index.html"
    if not index.is_file():
        pytest.skip("dashboard/dist is not built (make dashboard; make test builds it)")
    return index


@pytest.fixture(scope="session")
def live_url(gateway: Any, dashboard_built: Path) -> Iterator[str]:
    import uvicorn

    from infra.local.gateway import create_app

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(gateway, server_url=url),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="browser-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the gateway did not start"
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Chromium is not installed (make chromium; make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/")
    page.wait_for_url("**/signin**")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


# ---- issue 8, browser recommendations/reports slice: a client connected to the platform simulator -------------
# The same path as tests/integration/test_apply_undo.py: an account on the simulator, a connection made through the
# API (which queues the backfill), and the sync queue drained through the real worker, so the campaigns and their
# metrics are what a real sync writes.


@pytest.fixture(scope="session")
def drain_sync(stack: Any) -> Any:
    import boto3

    from infra.local import lambda_runtime
    from infra.local.poller import Poller, QueueBinding

    spec = stack.template.functions["WorkerSyncFunction"]
    trigger = next(t for t in stack.template.sqs_triggers if t.function == "WorkerSyncFunction")
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
        raise AssertionError("the sync queue did not drain")

    return run


def connect_simulated_account(
    stack: Any,
    api: Any,
    drain_sync: Any,
    world: Any,
    campaigns: list[dict[str, Any]],
    *,
    client_index: int = 0,
    history_days: int = 45,
) -> str:
    """A Google Ads account on the simulator with `campaigns` (CampaignSpec dicts), connected to the client
    through the API and synced; returns the account id."""
    import uuid

    import httpx

    account = str(7_770_000_000 + uuid.uuid4().int % 1_000_000)
    spec = {
        "platform": "google_ads",
        "account_id": account,
        "name": "Browser test account",
        "currency": "USD",
        "time_zone": "UTC",
        "history_days": history_days,
        "campaigns": campaigns,
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
        "backfill_days": history_days,
    }
    client = world.clients[client_index]
    r = api.post(f"/api/v1/clients/{client}/connections", json=body, headers=world.owner.headers)
    assert r.status_code == 201, r.text
    drain_sync()
    return account


def sim_campaign(stack: Any, account: str, external_id: str) -> dict[str, Any]:
    """The simulator's own state of one campaign (what the platform holds, not what we synced)."""
    import httpx

    accounts = httpx.get(f"{stack.sim_url}/_sim/accounts").json()["accounts"]
    acct = next(a for a in accounts if a["account_id"] == account)
    return next(c for c in acct["campaigns"] if c["id"] == external_id)
