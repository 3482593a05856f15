"""The real `make run`, as a user starts it: the whole topology comes up, /health is green, demo.json has the
promised shape, a demo owner can sign in, and Ctrl-C (SIGINT) stops every process, Postgres included."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_run_serves_health_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = {**os.environ, "LOCAL_DIR": str(tmp_path / "local"), "PORT": str(port)}
    for var in ("DATABASE_URL", "AWS_ENDPOINT_URL", "JWT_SECRET_ARN"):
        env.pop(var, None)
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, health = time.monotonic() + 240, None
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                health = httpx.get(f"{base}/health", timeout=5)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert health is not None and health.status_code == 200, (tmp_path / "run.log").read_text()[-3000:]
        checks = health.json()["data"]["checks"]
        assert {"database", "queues", "storage", "aws_emulator", "scheduler", "sqs_poller"} <= set(checks)
        assert all(c["status"] == "ok" for c in checks.values())

        demo = json.loads((tmp_path / "local" / "demo.json").read_text())
        assert len(demo["tenants"]) == 2
        for tenant in demo["tenants"]:
            assert set(tenant) == {"tenant_id", "name", "owner", "client_ids", "viewer"}
            assert set(tenant["owner"]) == {"email", "password", "api_key"}
            assert (
                set(tenant["viewer"]) == {"client_id", "api_key"}
                and tenant["viewer"]["client_id"] in tenant["client_ids"]
            )
        owner = demo["tenants"][0]["owner"]
        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": owner["email"], "password": owner["password"]}
        )
        assert token.status_code == 200
        listed = httpx.get(f"{base}/api/v1/clients", headers={"Authorization": f"Bearer {owner['api_key']}"})
        assert {c["id"] for c in listed.json()["data"]["items"]} == set(demo["tenants"][0]["client_ids"])
        assert "Marketing Strategist is running" in (tmp_path / "run.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    assert not (tmp_path / "local" / "pg" / "pgdata" / "postmaster.pid").exists(), "Postgres was left running"
