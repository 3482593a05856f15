"""Upsert throughput of normalized daily metric rows into Postgres (COPY into staging + INSERT ON CONFLICT),
first load and re-load of the same rows (the restatement case), against an anchor: a plain COPY of the same
rows into an unindexed temp table in the same run.

Run by hand: python bench/upsert_throughput.py --campaigns 200 --days 730 --repeats 3"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--campaigns", type=int, default=200)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    from sqlalchemy import select, text

    from infra.local.stack import LocalStack
    from strategist import bootstrap
    from strategist.adapters.db.metrics_store import MetricRow, _csv, upsert_metrics
    from strategist.adapters.db.models import Campaign, Client

    stack = LocalStack(local_dir=Path(tempfile.mkdtemp(prefix="ms-bench-upsert-")))
    stack.start(background=False)
    try:
        tid = uuid.UUID(json.loads((stack.local_dir / "demo.json").read_text())["tenants"][0]["tenant_id"])
        with bootstrap.system_unit_of_work("bench") as uow:
            uow.set_tenant(tid)
            cid = uow.session.scalar(select(Client.id))
            camps = [
                Campaign(
                    tenant_id=tid,
                    client_id=cid,
                    platform="google_ads",
                    external_id=f"b{i}",
                    name=f"c{i}",
                    currency="USD",
                )
                for i in range(args.campaigns)
            ]
            uow.session.add_all(camps)
            uow.session.flush()
            ids = [c.id for c in camps]
        start = dt.date.today() - dt.timedelta(days=args.days)
        rows = [
            MetricRow(
                c,
                start + dt.timedelta(days=d),
                "USD",
                Decimal("123.456789"),
                10_000 + d,
                250,
                Decimal("7.5"),
                Decimal("640.25"),
                "America/New_York",
                "google_ads_default",
                "googleAds:searchStream v21",
            )
            for c in ids
            for d in range(args.days)
        ]
        n = len(rows)
        results: dict[str, list[float]] = {"anchor_copy": [], "first_load": [], "reload": [], "csv_build": []}
        for _ in range(args.repeats):
            with bootstrap.system_unit_of_work("bench") as uow:
                uow.set_tenant(tid)
                uow.session.execute(text("DELETE FROM campaign_metrics"))
            t0 = time.perf_counter()
            _csv(tid, rows)
            results["csv_build"].append(time.perf_counter() - t0)
            with bootstrap.system_unit_of_work(
                "bench"
            ) as uow:  # anchor: the bare COPY, no index, no conflict
                uow.set_tenant(tid)
                uow.session.execute(
                    text("CREATE TEMP TABLE anchor (LIKE campaign_metrics INCLUDING DEFAULTS) ON COMMIT DROP")
                )
                buf, _ = _csv(tid, rows)
                t0 = time.perf_counter()
                cur = uow.session.connection().connection.driver_connection.cursor()
                cur.execute(
                    "COPY anchor (tenant_id, campaign_id, date, breakdown, currency, cost, impressions, clicks,"
                    " conversions, conversion_value, video_views, reach, time_zone, attribution_window, source)"
                    " FROM STDIN WITH (FORMAT csv, NULL '', FORCE_NOT_NULL (breakdown))",
                    stream=io.BytesIO(buf.getvalue().encode()),
                )
                results["anchor_copy"].append(time.perf_counter() - t0)
            for phase in ("first_load", "reload"):
                t0 = time.perf_counter()
                with bootstrap.system_unit_of_work("bench") as uow:
                    uow.set_tenant(tid)
                    written = upsert_metrics(uow.session, tid, rows)
                results[phase].append(time.perf_counter() - t0)
                assert written == n
        with bootstrap.system_unit_of_work("bench") as uow:
            uow.set_tenant(tid)
            assert uow.session.scalar(text("SELECT count(*) FROM campaign_metrics")) == n
        report = {"rows": n}
        for name, secs in results.items():
            report[name] = {
                "min_s": round(min(secs), 3),
                "median_s": round(statistics.median(secs), 3),
                "rows_per_s_at_median": round(n / statistics.median(secs)),
            }
        report["first_load_vs_anchor"] = round(
            statistics.median(results["first_load"]) / statistics.median(results["anchor_copy"]), 2
        )
        print(json.dumps(report, indent=2))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
