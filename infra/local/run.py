"""`make run`: the whole local topology in one process tree, on loopback only; Ctrl-C stops it cleanly."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import uvicorn

from infra.local.dashboard_build import ensure_built
from infra.local.gateway import create_app
from infra.local.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8029")))
    parser.add_argument(
        "--speedup",
        type=float,
        default=float(os.environ.get("SCHEDULE_SPEEDUP", "1")),
        help="run EventBridge schedules this many times faster (e.g. 60: hourly jobs every minute)",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--local-dir",
        type=Path,
        default=Path(os.environ.get("LOCAL_DIR", Path(__file__).resolve().parents[2] / ".local")),
        help="where Postgres data, moto-independent secrets and demo.json live (kept between runs)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "urllib3", "werkzeug", "alembic.runtime.migration", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    ensure_built()  # the dashboard at /, rebuilt when its sources are newer than dashboard/dist
    public = f"http://127.0.0.1:{args.port}"
    stack = LocalStack(
        local_dir=args.local_dir.resolve(), speedup=args.speedup, public_url=public, demo_platforms=True
    )
    try:
        stack.start()
        gateway = stack.gateway()
        gateway.warm()
        app = create_app(gateway, server_url=public)
        info = stack.describe()
        print(
            "\nMarketing Strategist is running (local topology, demo data).\n"
            f"  dashboard         {info['dashboard']}\n"
            f"  API docs          {info['docs']}\n"
            f"  OpenAPI           {info['openapi']}\n"
            f"  health            {info['health']}\n"
            f"  demo credentials  {info['demo_credentials']}\n"
            f"  postgres          {info['postgres']}   AWS (moto) {info['aws_endpoint']}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
