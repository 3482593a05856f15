"""A throwaway `make run` for the screenshot script and the web benchmark: the whole local topology with demo
data on a free port and a temporary directory, stopped (SIGINT, as Ctrl-C) on exit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_stack(timeout: float = 300) -> Iterator[tuple[str, dict[str, Any]]]:
    """(base URL, demo.json) of a fresh local stack whose demo clients have synced their history."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ms-dashboard-") as tmp:
        env = {**os.environ, "LOCAL_DIR": f"{tmp}/local", "PORT": str(port)}
        for var in ("DATABASE_URL", "AWS_ENDPOINT_URL", "JWT_SECRET_ARN"):
            env.pop(var, None)
        log = open(f"{tmp}/run.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local.run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            demo: dict[str, Any] | None = None
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(Path(f"{tmp}/run.log").read_text()[-3000:])
                with contextlib.suppress(httpx.HTTPError, OSError, ValueError, KeyError):
                    if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                        demo = json.loads(Path(f"{tmp}/local/demo.json").read_text())
                        if _synced(base, demo):
                            break
                time.sleep(2)
            else:
                raise TimeoutError("the local stack did not come up with synced demo data")
            assert demo is not None
            yield base, demo
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


def _synced(base: str, demo: dict[str, Any]) -> bool:
    tenant = demo["tenants"][0]
    headers = {"Authorization": f"Bearer {tenant['owner']['api_key']}"}
    for cid in tenant["client_ids"]:
        r = httpx.get(
            f"{base}/api/v1/analytics/dashboard",
            params={"client_id": cid, "date_range": "30d"},
            headers=headers,
        )
        if r.status_code != 200 or not float(r.json()["data"]["overview"]["spend"]["value"] or 0):
            return False
    return True


def make_user(
    base: str, demo: dict[str, Any], role: str, client_ids: list[str] | None = None
) -> tuple[str, str]:
    """A user of the first demo tenant, made the way an agency does it: invitation, then accept."""
    tenant = demo["tenants"][0]
    headers = {"Authorization": f"Bearer {tenant['owner']['api_key']}"}
    email = f"{role.replace('_', '-')}-{time.time_ns()}@client-demo.example"
    r = httpx.post(
        f"{base}/api/v1/invitations",
        json={"email": email, "role": role, "client_ids": client_ids or []},
        headers=headers,
    )
    r.raise_for_status()
    password = "dashboard password 12345"
    token = r.json()["data"]["accept_token"]
    r = httpx.post(
        f"{base}/api/v1/invitations/accept",
        json={"token": token, "name": f"Demo {role}", "password": password},
    )
    r.raise_for_status()
    return email, password


def make_viewer(base: str, demo: dict[str, Any]) -> tuple[str, str]:
    """A client-viewer user of the first demo client."""
    return make_user(base, demo, "client_viewer", [demo["tenants"][0]["viewer"]["client_id"]])


def set_branding(base: str, demo: dict[str, Any]) -> None:
    tenant = demo["tenants"][0]
    headers = {"Authorization": f"Bearer {tenant['owner']['api_key']}"}
    r = httpx.patch(
        f"{base}/api/v1/tenant",
        json={
            "branding": {
                "primary_color": "#0f766e",
                "accent_color": "#f59e0b",
                "sender_name": "Northwind Media",
                "footer_text": "Prepared for you by Northwind Media · questions: hello@northwind.example",
            }
        },
        headers=headers,
    )
    r.raise_for_status()
