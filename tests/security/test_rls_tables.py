"""Row-level security for EVERY tenant-owned table, proven at the SQL level as the service's own login (no
BYPASSRLS, owns nothing). The tables come from information_schema (any table with a tenant_id column) plus
TENANT_TABLES, so a new table without a policy fails here. The victim tenant gets a real row in every one of them.

Also: every SECURITY DEFINER function pins its search_path and is on a reviewed list with its reason."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.security import tenant_rows

#: SECURITY DEFINER functions (they run as the owner and so see every tenant): each answers one narrow question
#: the service must ask before it knows the tenant, and returns ids or the one row asked for.
DEFINER_ALLOWED = {
    "auth_user_by_email": "sign-in: the user (and its tenant) for one exact e-mail address",
    "auth_api_key_by_prefix": "API key auth: the key row for one exact 12-character prefix",
    "auth_refresh_token": "token refresh: the refresh-token row for one exact SHA-256 hash",
    "auth_invitation_by_token": "invitation accept: the invitation for one exact token hash",
    "system_tenant_ids": "scheduled jobs: the tenant ids to iterate (ids only)",
    "outbox_pending_tenants": "outbox relay: tenant ids with unpublished events (ids only)",
    "system_active_connections": "sync schedule: (tenant, connection) ids due for a sync",
    "system_optimizable_tenants": "optimization job: tenant ids with automation enabled",
    "system_alert_scopes": "alerts job: (tenant, client) ids with alert rules",
    "system_due_communications": "communications job: ids of messages due or lost in flight",
    "system_due_report_schedules": "reports job: ids of report schedules due at a time",
    "system_pending_reports": "reports job: ids of reports waiting to be rendered",
}


@pytest.fixture(scope="module")
def setup(stack, make_tenant_module):
    owner = create_engine(stack.owner_url())
    app = create_engine(stack.app_url())
    tables = tenant_rows.tenant_tables(owner)
    a, b = make_tenant_module(), make_tenant_module()
    rows_a = tenant_rows.fill(stack.owner_url(), a.tenant_id, a.clients[1], tables)
    rows_b = tenant_rows.fill(stack.owner_url(), b.tenant_id, b.clients[1], tables)
    yield owner, app, tables, a, b, rows_a, rows_b
    owner.dispose()
    app.dispose()


def _as(conn, tenant) -> None:
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.tenant_id)})


def test_the_table_list_is_complete_and_every_table_has_a_row(setup):
    owner, _, tables, a, b, _rows_a, _rows_b = setup
    assert len(tables) >= 36  # 36 when written (issue 9); only grows
    for tenant in (a, b):
        empty = [t for t, n in tenant_rows.counts(owner, tenant.tenant_id, tables).items() if n == 0]
        assert not empty, empty


def test_every_tenant_table_has_rls_enabled_and_a_tenant_policy(setup):
    owner, _, tables, *_ = setup
    with owner.connect() as conn:
        enabled = dict(
            conn.execute(
                text(
                    "SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r' AND relname = ANY(:t)"
                ),
                {"t": tables},
            ).all()
        )
        policies: dict[str, list[tuple]] = {}
        for name, cmd, qual, check in conn.execute(
            text("SELECT tablename, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'")
        ):
            policies.setdefault(name, []).append((cmd, qual or "", check or ""))
    missing = [t for t in tables if not enabled.get(t)]
    assert not missing, f"RLS not enabled on {missing}"
    for t in tables:
        assert policies.get(t), f"{t} has no policy"
        assert all("app.tenant_id" in q + c for _, q, c in policies[t]), (t, policies[t])


@pytest.mark.parametrize("kind", ["select", "update", "delete", "insert", "move"])
def test_tenant_a_cannot_touch_tenant_b(setup, kind):
    owner, app, tables, a, b, _rows_a, rows_b = setup
    before = tenant_rows.counts(owner, b.tenant_id, tables)
    refused: dict[str, str] = {}
    with app.connect() as conn:
        for t in tables:
            txn = conn.begin()
            try:
                _as(conn, a)
                if kind == "select":
                    n = conn.execute(
                        text(f"SELECT count(*) FROM {t} WHERE tenant_id = :b"), {"b": b.tenant_id}
                    )
                    assert n.scalar() == 0, t
                    mine = conn.execute(text(f"SELECT DISTINCT tenant_id FROM {t}")).scalars().all()
                    assert mine == [a.tenant_id], (t, mine)
                elif kind == "update":
                    r = conn.execute(
                        text(f"UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = :b"), {"b": b.tenant_id}
                    )
                    assert r.rowcount == 0, t
                elif kind == "delete":
                    r = conn.execute(text(f"DELETE FROM {t} WHERE tenant_id = :b"), {"b": b.tenant_id})
                    assert r.rowcount == 0, t
                elif kind == "insert":
                    # B's own row, re-inserted under a new id (or as is where the key is not an id)
                    row = dict(rows_b[t])
                    if isinstance(row.get("id"), uuid.UUID):
                        row["id"] = uuid.uuid4()
                    elif isinstance(row.get("id"), int):
                        del row["id"]  # an identity column
                    cols = ", ".join(row)
                    values = ", ".join(f":{c}" for c in row)
                    conn.execute(text(f"INSERT INTO {t} ({cols}) VALUES ({values})").bindparams(**row))
                    pytest.fail(f"{t}: inserted a row into tenant B")
                else:  # move A's own rows into B
                    conn.execute(
                        text(f"UPDATE {t} SET tenant_id = :b WHERE tenant_id = :a"),
                        {"a": a.tenant_id, "b": b.tenant_id},
                    )
                    pytest.fail(f"{t}: moved a row into tenant B")
            except DBAPIError as exc:
                refused[t] = str(exc.orig).splitlines()[0]
            finally:
                txn.rollback()
    if kind in {"insert", "move"}:
        bad = {
            t: why
            for t, why in refused.items()
            if "row-level security" not in why and "permission denied" not in why
        }
        assert set(refused) == set(tables) and not bad, bad
    else:
        assert not refused, refused
    assert tenant_rows.counts(owner, b.tenant_id, tables) == before


def test_without_a_tenant_nothing_is_visible(setup):
    _, app, tables, *_ = setup
    with app.connect() as conn, conn.begin():
        seen = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in [*tables, "tenants"]}
    assert not any(seen.values()), {t: n for t, n in seen.items() if n}


def test_security_definer_functions_pin_search_path_and_are_reviewed(setup):
    owner, *_ = setup
    with owner.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            )
        ).all()
    assert rows
    unreviewed = {name for name, _ in rows} - set(DEFINER_ALLOWED)
    assert not unreviewed, f"SECURITY DEFINER functions without a reviewed reason: {unreviewed}"
    for name, config in rows:
        paths = [c for c in config or [] if c.startswith("search_path=")]
        assert (
            paths
            and "pg_temp" in paths[0]
            and paths[0].split("=")[1].split(",")[0].strip() in {"public", "pg_catalog"}
        ), (name, config)
