"""Live updates (issue 8): how fast a domain event reaches open dashboards, and what fan-out costs.

In process, as the tests run it: the local stack (embedded Postgres + moto), the gateway on uvicorn with N real
WebSocket clients (the `websockets` library, token as sub-protocol) of one tenant, then E events, each written to
the outbox and carried relay → moto bus → the push function's EventBridge rule → the gateway's registry → every
socket. Reports connect time, emit-to-last-socket latency and the push function's own time per event.

Run by hand: .venv/bin/python bench/live_push.py --sockets 50 --events 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()

    import boto3
    import uvicorn
    import websockets
    from starlette.testclient import TestClient

    from infra.local import lambda_runtime
    from infra.local.eventbridge import start_delivery
    from infra.local.gateway import LIVE_SOCKETS, create_app
    from infra.local.stack import LocalStack
    from strategist import bootstrap
    from strategist.services.outbox import relay
    from tests.conftest import tenant_factory

    stack = LocalStack(local_dir=Path(tempfile.mkdtemp(prefix="live-bench-")))
    stack.start(background=False)
    try:
        gw = stack.gateway()
        gw.bucket.rate = gw.bucket.burst = gw.login_bucket.rate = gw.login_bucket.burst = 100_000
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(gw), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        with TestClient(create_app(gw)) as api:
            factory, close = tenant_factory(stack, api)
            world = factory("Live bench")
        push_ms: list[float] = []

        def invoke(fn: str, event: dict) -> object:
            t0 = time.perf_counter()
            out = lambda_runtime.invoke(stack.template.functions[fn], event)
            push_ms.append((time.perf_counter() - t0) * 1000)
            return out

        delivery = start_delivery(stack.template, stack.resources, invoke, background=False)
        delivery.wait_s = 0
        delivery.bindings = [b for b in delivery.bindings if b.rule.function == "JobLivePushFunction"]
        events_client = boto3.client("events", endpoint_url=stack.resources.endpoint)

        def publish(client_id: uuid.UUID) -> None:
            with bootstrap.system_unit_of_work("bench") as uow:
                uow.set_tenant(world.tenant_id)
                uow.emit("alert.opened", {"alert_id": uuid.uuid4(), "client_id": client_id})
            relay(
                lambda: bootstrap.system_unit_of_work("bench"),
                events_client,
                bootstrap.settings().event_bus_name,
            )
            for b in delivery.bindings:
                while delivery.poll_once(b):
                    pass

        async def run() -> dict:
            url = f"ws://127.0.0.1:{port}/ws"
            connect_ms: list[float] = []
            sockets = []
            for _ in range(args.sockets):
                t0 = time.perf_counter()
                ws = await websockets.connect(url, subprotocols=["msk.bearer", world.owner.token])
                connect_ms.append((time.perf_counter() - t0) * 1000)
                sockets.append(ws)
            e2e_ms: list[float] = []
            for _ in range(args.events):
                t0 = time.perf_counter()
                waiters = [asyncio.create_task(ws.recv()) for ws in sockets]
                await asyncio.to_thread(publish, world.clients[0])
                got = await asyncio.gather(*waiters)
                e2e_ms.append((time.perf_counter() - t0) * 1000)
                assert all(json.loads(m)["type"] == "alert.opened" for m in got)
            for ws in sockets:
                await ws.close()
            return {"connect": connect_ms, "e2e": e2e_ms}

        result = asyncio.run(run())
        time.sleep(0.5)
        summary = {
            "sockets": args.sockets,
            "events": args.events,
            "connect_ms_p50": round(statistics.median(result["connect"]), 1),
            "connect_ms_p95": round(_pct(result["connect"], 0.95), 1),
            "emit_to_all_sockets_ms_p50": round(statistics.median(result["e2e"]), 1),
            "emit_to_all_sockets_ms_p95": round(_pct(result["e2e"], 0.95), 1),
            "push_function_ms_p50": round(statistics.median(push_ms), 1),
            "push_function_ms_p95": round(_pct(push_ms, 0.95), 1),
            "posts_per_second_in_push": round(args.sockets / (statistics.median(push_ms) / 1000), 0),
            "sockets_left_open": len(LIVE_SOCKETS),
        }
        print(json.dumps(summary, indent=2))
        server.should_exit = True
        close()
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
