"""Dependency checks for /health: each one answers quickly and says what it saw, never raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from strategist.config import Settings


def _timed(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = {"status": "ok", **check()}
    except Exception as exc:  # a health check reports failures, it does not propagate them
        result = {"status": "down", "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict[str, Any]:
    from sqlalchemy import text

    from strategist.adapters.db.engine import get_engine

    def run() -> dict[str, Any]:
        with get_engine().connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
            revision = conn.execute(text("SELECT current_setting('server_version_num')")).scalar()
        return {"server_version": version, "version_num": revision}

    return _timed(run)


def check_queues(settings: Settings) -> dict[str, Any]:
    from strategist.adapters.aws.clients import aws_client

    def run() -> dict[str, Any]:
        depths = {}
        for name, url in sorted(settings.queue_urls.items()):
            attrs = aws_client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[name] = int(attrs["ApproximateNumberOfMessages"])
        return {"depth": depths}

    return _timed(run)


def check_bucket(settings: Settings) -> dict[str, Any]:
    from strategist.adapters.aws.clients import aws_client

    def run() -> dict[str, Any]:
        aws_client("s3").head_bucket(Bucket=settings.data_bucket)
        return {"bucket": settings.data_bucket}

    return _timed(run)


def health(settings: Settings) -> tuple[bool, dict[str, Any]]:
    checks = {"database": check_database()}
    if settings.queue_urls:
        checks["queues"] = check_queues(settings)
    if settings.data_bucket:
        checks["storage"] = check_bucket(settings)
    healthy = all(c["status"] == "ok" for c in checks.values())
    return healthy, {"status": "ok" if healthy else "degraded", "stage": settings.stage, "checks": checks}
