"""Security fixtures: the session's local stack served over real HTTP (uvicorn on a free port, in a thread) for
tools that speak HTTP from another process (schemathesis), and row counters that prove a refused request wrote
nothing."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def http_url(gateway: Any) -> Iterator[str]:
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
    thread = threading.Thread(target=server.run, name="security-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the gateway did not start"
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def owner_engine(stack: Any) -> Iterator[Any]:
    from sqlalchemy import create_engine

    # session-wide: the fault tests restart Postgres in the same worker, so pooled connections are checked
    engine = create_engine(stack.owner_url(), pool_pre_ping=True)
    yield engine
    engine.dispose()


def written_rows(engine: Any, tenant_id: uuid.UUID) -> dict[str, int]:
    """The tenant's audit and outbox row counts: every mutation leaves one of each, so unchanged counts after a
    refused request mean it wrote nothing."""
    from sqlalchemy import text

    with engine.connect() as c:
        return {
            table: c.execute(
                text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": str(tenant_id)}
            ).scalar_one()
            for table in ("audit_log", "outbox")
        }
