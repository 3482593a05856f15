"""``python -m infra.platform_sim --port 8099 [--spec accounts.json] [--demo] [--seed 7] [--today 2026-08-03]``."""

from __future__ import annotations

import argparse
import json
from datetime import date

import uvicorn

from infra.platform_sim.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.platform_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spec", help="JSON file with {'accounts': [...]}")
    parser.add_argument("--demo", action="store_true", help="load the built-in multi-platform demo accounts")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    spec = None
    if args.spec:
        with open(args.spec, encoding="utf-8") as handle:
            spec = json.load(handle)
    app = create_app(seed=args.seed, spec=spec, today=args.today, demo=args.demo or spec is None)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
