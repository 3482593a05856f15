"""Load on loopback: the main read paths (analytics dashboard, campaigns list, alerts list; campaign insights as its
own workload, it runs the driver decomposition and forecasts) and write paths (client create, communication send, rule create) at rising concurrency until errors appear or p99
passes 1 s. Each virtual user has its own API key (the usage plan throttles per key, as on API Gateway), keeps
one keep-alive connection and issues requests back to back, cycling through the paths of its phase.

Starts its own stack (python -m infra.local.run: gateway, scheduler, SQS poller, demo tenants synced from the
simulator) on a free port with a throwaway data directory, unless --base points at a running one. The load
generator (httpx async, one process) shares the machine's cores with the stack; say so with any figure.

Run by hand:  .venv/bin/python bench/load.py --levels 1,5,10,25,50,100 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from gateway_load import _free_port, _pct  # noqa: E402

Request = tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]  # method, path, params, json


def start_stack() -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    local = Path(tempfile.mkdtemp(prefix="ms-load-"))
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local.run", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "LOCAL_DIR": str(local)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base, local
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("stack did not start")


def settle(base: str, quiet_s: float = 10, limit_s: float = 300) -> None:
    """Wait until the demo's start-up backfill has drained (the poller's delivery counters stop moving), so the
    load does not compete with it for the cores."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        payload = httpx.get(f"{base}/health", timeout=10).json()
        poller = (payload.get("data") or {}).get("checks", {}).get("sqs_poller")
        if poller is None:
            raise SystemExit("the stack's /health has no sqs_poller check: cannot tell when it is idle")
        counts = json.dumps(poller.get("queues", {}), sort_keys=True)
        if counts != last:
            last, since = counts, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(1)


def make_keys(base: str, owner_key: str, n: int) -> list[str]:
    keys = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {owner_key}"}) as c:
        for i in range(n):
            while True:
                r = c.post(
                    "/api/v1/api-keys",
                    json={"name": f"load {i}", "role": "admin", "scopes": ["read", "write"]},
                )
                if r.status_code != 429:
                    break
                time.sleep(float(r.headers.get("retry-after", "1")))
            r.raise_for_status()
            keys.append(r.json()["data"]["key"])
    return keys


def read_paths(base: str, key: str, client_ids: list[str]) -> list[Request]:
    today = dt.date.today()
    period = {
        "start": (today - dt.timedelta(days=30)).isoformat(),
        "end": (today - dt.timedelta(days=1)).isoformat(),
    }
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as c:
        campaigns = c.get("/api/v1/campaigns", params={"client_id": client_ids[0]}).json()["data"]
        items = campaigns["items"] if isinstance(campaigns, dict) else campaigns
    out: list[Request] = []
    for cid in client_ids:
        out += [
            ("GET", "/api/v1/analytics/dashboard", {"client_id": cid, **period}, None),
            ("GET", "/api/v1/campaigns", {"client_id": cid}, None),
            ("GET", "/api/v1/alerts", {"client_id": cid}, None),
        ]
    out += [("GET", f"/api/v1/campaigns/{c['id']}/insights", None, None) for c in items[:3]]
    return out


def write_paths(client_ids: list[str]) -> list[Callable[[], Request]]:
    def client() -> Request:
        return (
            "POST",
            "/api/v1/clients",
            None,
            {"name": f"Load {uuid.uuid4().hex[:10]}", "industry": "retail"},
        )

    def send() -> Request:
        body = {
            "client_id": client_ids[0],
            "message_type": "performance_update",
            "content": "Spend was on plan this week.",
            "send_immediately": True,
            "recipients": [f"load-{uuid.uuid4().hex[:8]}@client.example"],
            "channels": ["email", "in_app"],
        }
        return ("POST", "/api/v1/communication/send", None, body)

    def rule() -> Request:
        body = {"name": f"load {uuid.uuid4().hex[:8]}", "client_id": client_ids[1], "metric": "cpa",
                "operator": ">", "threshold": 50, "window_days": 7, "min_conversions": 5, "action": "pause"}  # fmt: skip
        return ("POST", "/api/v1/rules", None, body)

    return [client, send, rule]


def _label(req: Request) -> str:
    method, path, _, _ = req
    parts = ["{id}" if len(p) == 36 and p.count("-") == 4 else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


async def _user(
    client: httpx.AsyncClient, key: str, make: Callable[[int], Request], offset: int, until: float, out: dict
) -> None:
    i = offset
    headers = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() < until:
        req = make(i)
        i += 1
        method, path, params, body = req
        t0 = time.perf_counter()
        try:
            r = await client.request(method, path, params=params, json=body, headers=headers)
            code = r.status_code
        except httpx.HTTPError:
            code = -1
        ms = (time.perf_counter() - t0) * 1000
        row = out.setdefault(_label(req), {"lat": [], "codes": {}})
        row["codes"][code] = row["codes"].get(code, 0) + 1
        out.setdefault("_all", {"lat": [], "codes": {}})
        out["_all"]["codes"][code] = out["_all"]["codes"].get(code, 0) + 1
        if code != -1:
            row["lat"].append(ms)
            out["_all"]["lat"].append(ms)


def _summary(row: dict, seconds: float) -> dict[str, Any]:
    total = sum(row["codes"].values())
    ok = sum(v for c, v in row["codes"].items() if 200 <= c < 300)
    return {
        "requests": total,
        "rps": round(total / seconds, 1),
        "errors": total - ok,
        "codes": {str(k): v for k, v in sorted(row["codes"].items())},
        "p50_ms": round(_pct(row["lat"], 0.50), 1),
        "p99_ms": round(_pct(row["lat"], 0.99), 1),
    }


async def phase(base: str, keys: list[str], make: Callable[[int], Request], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=len(keys) + 5, max_keepalive_connections=len(keys) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        until = time.perf_counter() + seconds
        await asyncio.gather(*(_user(client, k, make, i, until, out) for i, k in enumerate(keys)))
    return {
        "all": _summary(out.pop("_all", {"lat": [], "codes": {}}), seconds),
        "paths": {label: _summary(row, seconds) for label, row in sorted(out.items())},
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--levels", default="1,5,10,25,50,100")
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--p99-limit-ms", type=float, default=1000)
    p.add_argument("--base", help="use a running stack instead of starting one")
    p.add_argument("--local-dir", help="with --base: the stack's .local directory (for demo.json)")
    p.add_argument("--out", help="write the JSON result here too")
    args = p.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    proc = None
    if args.base:
        base, local = args.base, Path(args.local_dir or ROOT / ".local")
    else:
        proc, base, local = start_stack()
    try:
        demo = json.loads((local / "demo.json").read_text())
        tenant = demo["tenants"][0]
        client_ids = tenant["client_ids"]
        keys = make_keys(base, tenant["owner"]["api_key"], max(levels))
        reads = read_paths(base, keys[0], client_ids)
        writes = write_paths(client_ids)
        settle(base)
        insights = [r for r in reads if r[1].endswith("/insights")]
        reads = [r for r in reads if not r[1].endswith("/insights")]
        asyncio.run(phase(base, keys[:5], lambda i: reads[i % len(reads)], 3))  # warm functions and pool
        result: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
            "seconds_per_level": args.seconds,
            "note": "load generator, gateway, functions, Postgres, moto and the simulator share the same cores",
            "read": [],
            "insights": [],
            "write": [],
        }
        workloads = (
            ("read", lambda i: reads[i % len(reads)]),
            ("insights", lambda i: insights[i % len(insights)]),
            ("write", lambda i: writes[i % 3]()),
        )
        for kind, make in workloads:
            for n in levels:
                r = asyncio.run(phase(base, keys[:n], make, args.seconds))
                r["concurrency"] = n
                result[kind].append(r)
                a = r["all"]
                print(f"{kind:5} c={n:3} rps={a['rps']:7} p50={a['p50_ms']:8}ms p99={a['p99_ms']:8}ms "
                      f"errors={a['errors']} {a['codes']}", flush=True)  # fmt: skip
                if a["errors"] or a["p99_ms"] > args.p99_limit_ms:
                    r["knee"] = "errors" if a["errors"] else f"p99 > {args.p99_limit_ms:.0f} ms"
                    break
        text = json.dumps(result, indent=2)
        print(text)
        if args.out:
            Path(args.out).write_text(text)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
