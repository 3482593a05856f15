"""One real row in EVERY tenant-owned table for a given tenant, written as the owner role from the live schema
(reflected, so a table added later is covered without editing this file). Column values come from the column's type,
its CHECK constraint (the first allowed literal), and its foreign key (the row made for the referenced table), so
the rows are valid objects a leak would expose: a campaign, an experiment, an alert, a report, a template...

Also: the tenant-owned tables found in information_schema, and per-table row counts for one tenant."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import sqltypes

from strategist.adapters.db.models import TENANT_TABLES

#: Values that a column's type and CHECK constraints cannot tell (formats the domain validates on read).
OVERRIDES: dict[tuple[str, str], Any] = {
    # CHECK ((scope = 'campaign') = (campaign_id IS NOT NULL)): the rule watches the victim's campaign
    ("alert_rules", "scope"): "campaign",
    # CHECK ((frequency = 'weekly') = (day_of_week IS NOT NULL))
    ("report_schedules", "frequency"): "weekly",
    ("report_schedules", "day_of_week"): 1,
}


def tenant_tables(engine: Engine) -> list[str]:
    """Every table in `public` with a tenant_id column, plus TENANT_TABLES (which must all have one)."""
    with engine.connect() as conn:
        found = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
                    "USING (table_schema, table_name) WHERE c.table_schema = 'public' "
                    "AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'"
                )
            )
        }
    return sorted(found | set(TENANT_TABLES))


def counts(engine: Engine, tenant_id: uuid.UUID, tables: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tenant_id}).scalar()
            for t in tables
        }


_LITERAL = re.compile(r"'([^']*)'")


def _checks(conn, table: str) -> dict[str, str]:
    """column -> first literal its CHECK constraint allows (`col IN (...)` / `col = ANY (ARRAY[...])`)."""
    out: dict[str, str] = {}
    rows = conn.execute(
        text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'c'"
        ),
        {"t": table},
    )
    for (definition,) in rows:
        for m in re.finditer(r"\(?(\w+)\)?(?:::\w+(?: \w+)?)? = ANY \(\(?ARRAY\[([^\]]*)\]", definition):
            literals = _LITERAL.findall(m.group(2))
            if literals:
                out.setdefault(m.group(1), literals[0])
    return out


def _value(table: Table, column, checks: dict[str, str], made: dict[str, dict[str, Any]]) -> Any:
    if (table.name, column.name) in OVERRIDES:
        return OVERRIDES[(table.name, column.name)]
    for fk in column.foreign_keys:
        target = made.get(fk.column.table.name)
        if target is not None:
            return target[fk.column.name]
    t = column.type
    if column.name in checks:
        value = checks[column.name]
        return [value] if isinstance(t, sqltypes.ARRAY) else value
    if isinstance(t, sqltypes.ARRAY):
        return []
    if isinstance(t, sqltypes.UUID):
        return uuid.uuid4()
    if isinstance(t, sqltypes.Boolean):
        return False
    if isinstance(t, sqltypes.Integer):
        return 1
    if isinstance(t, sqltypes.Numeric):
        return Decimal("0.05")
    if isinstance(t, sqltypes.DateTime):
        return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    if isinstance(t, sqltypes.Date):
        return dt.date.today() - dt.timedelta(days=1)
    if isinstance(t, sqltypes.JSON):
        return {}
    if isinstance(t, sqltypes.String):
        if column.name in {"currency"}:
            return "USD"
        if "time_zone" in column.name or "timezone" in column.name:
            return "UTC"
        if column.name in {"email", "recipient"}:
            return f"victim-{uuid.uuid4().hex[:8]}@tests.example"
        length = getattr(t, "length", None) or 40
        return f"v{uuid.uuid4().hex}"[: min(length, 24)]
    raise TypeError(f"{table.name}.{column.name}: no value for {t!r}")


def fill(owner_url: str, tenant_id: uuid.UUID, client_id: uuid.UUID, tables: list[str]) -> dict[str, dict]:
    """Insert one row per table (in foreign-key order) for `tenant_id`, attached to `client_id` where a table has
    a client. Returns table -> the row's values. Tables that already hold one of the tenant's rows keep theirs."""
    engine = create_engine(owner_url)
    meta = MetaData()
    meta.reflect(engine, only=[*tables, "tenants", "clients"])
    made: dict[str, dict[str, Any]] = {"tenants": {"id": tenant_id}}
    with engine.connect() as conn:
        made["clients"] = dict(
            conn.execute(text("SELECT * FROM clients WHERE id = :c"), {"c": client_id}).mappings().one()
        )
        for table in meta.sorted_tables:
            if table.name not in tables or table.name in made:
                continue
            checks = _checks(conn, table.name)
            row = {}
            for column in table.columns:
                needed = not column.nullable or column.foreign_keys or column.name in checks
                if column.name == "tenant_id":
                    row[column.name] = tenant_id
                elif column.server_default is not None and not column.foreign_keys:
                    continue
                elif needed or (table.name, column.name) in OVERRIDES:
                    row[column.name] = _value(table, column, checks, made)
            try:
                inserted = (
                    conn.execute(table.insert().values(**row).returning(*table.columns)).mappings().one()
                )
            except Exception as exc:
                raise AssertionError(f"{table.name}: {row}") from exc
            conn.commit()
            made[table.name] = dict(inserted)
    engine.dispose()
    return made
