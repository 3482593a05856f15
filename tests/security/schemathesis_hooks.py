"""Loaded by the schemathesis CLI (SCHEMATHESIS_HOOKS=tests.security.schemathesis_hooks): a check that a refused
request wrote nothing. Before every call it counts the tenant's audit_log and outbox rows (every mutation leaves
one of each); after a 4xx/5xx response it counts again and fails the case when either count moved.

Run with one worker: the counts are per tenant, so a concurrent successful write would be blamed on its neighbour.
The tenant and the database come from ST_HOOK_TENANT_ID and ST_HOOK_DB_URL."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from sqlalchemy import create_engine, text

# Security events that a refused request is meant to record: a replayed refresh token revokes its family and
# says so in the audit log while answering 401; failed or denied sign-ins (auth.*fail*, auth.*denied*) are audited.
EXPECTED_ON_FAILURE = ("auth.refresh_reuse_detected", "auth.login_failed")

_engine = create_engine(os.environ["ST_HOOK_DB_URL"], pool_size=1, max_overflow=0)
_tenant = os.environ["ST_HOOK_TENANT_ID"]
_before: dict[int, tuple[int, int]] = {}


def _counts() -> tuple[int, int]:
    with _engine.connect() as c:
        audit = c.execute(
            text(
                "SELECT count(*) FROM audit_log WHERE tenant_id = :t AND NOT (action = ANY(:ok))"
                " AND action NOT LIKE 'auth.%fail%' AND action NOT LIKE 'auth.%denied%'"
            ),
            {"t": _tenant, "ok": list(EXPECTED_ON_FAILURE)},
        ).scalar_one()
        outbox = c.execute(
            text("SELECT count(*) FROM outbox WHERE tenant_id = :t"), {"t": _tenant}
        ).scalar_one()
    return int(audit), int(outbox)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    _before[id(case)] = _counts()


@schemathesis.check
def no_write_on_failure(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request answered with an error leaves the tenant's audit_log and outbox as they were."""
    before = _before.pop(id(case), None)
    if before is None or response.status_code < 400:
        return None
    after = _counts()
    if after != before:
        raise AssertionError(
            f"{case.method} {case.path} answered {response.status_code} but wrote rows: "
            f"audit_log {before[0]} -> {after[0]}, outbox {before[1]} -> {after[1]}"
        )
    return None
