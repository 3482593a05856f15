"""Row-level security, proven at the SQL level as the service's own role (no BYPASSRLS, owns nothing):
a query without WHERE returns only the current tenant's rows, no tenant means no rows, and a write into
another tenant is refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from strategist.adapters.db.models import TENANT_TABLES


@pytest.fixture(scope="module")
def app_engine(stack):
    engine = create_engine(stack.app_url())
    yield engine
    engine.dispose()


def test_service_role_cannot_bypass(app_engine):
    with app_engine.connect() as conn:
        row = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        owners = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        ).scalar()
    assert row == (False, False) and owners == 0


def test_every_tenant_table_has_rls(app_engine):
    with app_engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(:t)"),
                {"t": [*TENANT_TABLES, "tenants"]},
            ).all()
        )
        policies = {
            r[0] for r in conn.execute(text("SELECT tablename FROM pg_policies WHERE schemaname='public'"))
        }
    assert all(rows[t] for t in [*TENANT_TABLES, "tenants"])
    assert set(TENANT_TABLES) | {"tenants"} <= policies


def test_unfiltered_queries_see_one_tenant(app_engine, make_tenant):
    a, b = make_tenant(), make_tenant()
    with app_engine.connect() as conn:
        for tenant in (a, b):
            with conn.begin():
                conn.execute(
                    text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.tenant_id)}
                )
                for table in ("clients", "users", "api_keys", "tenants"):
                    column = "id" if table == "tenants" else "tenant_id"
                    ids = {r[0] for r in conn.execute(text(f"SELECT {column} FROM {table}"))}
                    assert ids == {tenant.tenant_id}, table
        with conn.begin():
            for table in (*TENANT_TABLES, "tenants"):
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table


def test_cannot_write_into_another_tenant(app_engine, make_tenant):
    a, b = make_tenant(), make_tenant()
    with app_engine.connect() as conn:
        with pytest.raises(ProgrammingError, match="row-level security"), conn.begin():
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.tenant_id)})
            conn.execute(
                text(
                    "INSERT INTO clients (tenant_id, name, industry, currency, reporting_timezone) "
                    "VALUES (:t, 'x', 'other', 'USD', 'UTC')"
                ),
                {"t": b.tenant_id},
            )
        with conn.begin():
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.tenant_id)})
            changed = conn.execute(
                text("UPDATE clients SET name = 'pwned' WHERE id = :c"), {"c": b.clients[0]}
            ).rowcount
            deleted = conn.execute(text("DELETE FROM clients WHERE id = :c"), {"c": b.clients[1]}).rowcount
    assert changed == 0 and deleted == 0


def test_set_local_does_not_leak_across_transactions(app_engine, make_tenant):
    a = make_tenant()
    with app_engine.connect() as conn:
        with conn.begin():
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.tenant_id)})
            assert conn.execute(text("SELECT count(*) FROM clients")).scalar() == 2
        with conn.begin():
            assert conn.execute(text("SELECT count(*) FROM clients")).scalar() == 0


def test_auth_lookups_answer_only_their_question(app_engine, make_tenant):
    a = make_tenant()
    with app_engine.connect() as conn:
        rows = conn.execute(text("SELECT tenant_id FROM auth_user_by_email(:e)"), {"e": a.owner.email}).all()
        assert rows == [(a.tenant_id,)]
        assert conn.execute(text("SELECT * FROM auth_user_by_email('%')")).all() == []
        assert (
            conn.execute(text("SELECT * FROM auth_api_key_by_prefix(:p)"), {"p": uuid.uuid4().hex[:12]}).all()
            == []
        )


def test_restarting_keeps_the_service_login_unprivileged(stack, app_engine):
    """A second start on the same data directory re-runs the bootstrap as the (non-superuser) owner: PostgreSQL 16+
    refuses any ALTER ROLE that names SUPERUSER/BYPASSRLS, so the bootstrap must only reset the password."""
    from infra import db
    from infra.local.stack import APP_ROLE

    for _ in range(2):
        db.ensure_app_login(stack.owner_url(), login=APP_ROLE, password=stack.creds.app_password)
    with app_engine.connect() as conn:
        row = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert row == (False, False)
