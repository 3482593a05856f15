"""Local gateway load: p50/p99 latency and errors for GET /api/v1/clients with N concurrent clients, each with
its own API key (as agencies' integrations would be), against an anchor route served by the gateway itself
(GET /docs, no Lambda, no database) in the same run.

Starts its own stack (python -m infra.local.run) on a free port with a throwaway data directory, unless --base
points at a running one. Run by hand: python bench/gateway_load.py --concurrency 50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _worker(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    until: float,
    lat: list[float],
    codes: dict[int, int],
) -> None:
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        try:
            r = await client.get(path, headers=headers)
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
        except httpx.HTTPError:
            codes[-1] = codes.get(-1, 0) + 1
            continue
        lat.append((time.perf_counter() - t0) * 1000)


async def _phase(base: str, path: str, keys: list[str], seconds: float) -> dict:
    lat: list[float] = []
    codes: dict[int, int] = {}
    limits = httpx.Limits(max_connections=len(keys) + 5, max_keepalive_connections=len(keys) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(
                _worker(client, path, {"Authorization": f"Bearer {k}"} if k else {}, until, lat, codes)
                for k in keys
            )
        )
    ok = sum(v for c, v in codes.items() if 200 <= c < 300)
    return {
        "path": path,
        "requests": sum(codes.values()),
        "ok": ok,
        "errors": sum(codes.values()) - ok,
        "codes": codes,
        "rps": round(sum(codes.values()) / seconds, 1),
        "p50_ms": round(_pct(lat, 0.50), 1),
        "p99_ms": round(_pct(lat, 0.99), 1),
        "max_ms": round(max(lat), 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
    }


def _make_keys(base: str, owner_key: str, n: int) -> list[str]:
    keys = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {owner_key}"}) as c:
        for i in range(n):
            while True:
                r = c.post(
                    "/api/v1/api-keys", json={"name": f"bench {i}", "role": "analyst", "scopes": ["read"]}
                )
                if r.status_code != 429:
                    break
                time.sleep(float(r.headers.get("retry-after", "1")))  # the usage plan's throttle, honoured
            r.raise_for_status()
            keys.append(r.json()["data"]["key"])
    return keys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--base", help="use a running stack instead of starting one")
    p.add_argument("--local-dir", help="with --base: the stack's .local directory (for demo.json)")
    args = p.parse_args()

    proc = None
    if args.base:
        base, local = args.base, Path(args.local_dir or ROOT / ".local")
    else:
        port = _free_port()
        local = Path(tempfile.mkdtemp(prefix="ms-bench-"))
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "LOCAL_DIR": str(local)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local.run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
    try:
        demo = json.loads((local / "demo.json").read_text())
        keys = _make_keys(base, demo["tenants"][0]["owner"]["api_key"], args.concurrency)
        asyncio.run(_phase(base, "/api/v1/clients", keys[:5], 3))  # warm the functions and the pool
        anchor = asyncio.run(_phase(base, "/docs", [""] * args.concurrency, min(10.0, args.seconds)))
        target = asyncio.run(_phase(base, "/api/v1/clients", keys, args.seconds))
        result = {
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "anchor": anchor,
            "clients": target,
            "p50_ratio_to_anchor": round(target["p50_ms"] / anchor["p50_ms"], 1),
        }
        print(json.dumps(result, indent=2))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
