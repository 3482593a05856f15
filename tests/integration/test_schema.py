"""The SQLAlchemy models and the Alembic migrations describe the same schema, and migrations go down and up."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from infra import db
from strategist.adapters.db.models import Base


def test_models_match_migrations(stack):
    engine = create_engine(stack.owner_url())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    # Functional indexes (lower(email)) and partial indexes are invisible to autogenerate; everything else counts.
    relevant = [d for d in diffs if not (isinstance(d, tuple) and d[0] in {"remove_index", "add_index"})]
    assert relevant == [], relevant


def test_downgrade_and_upgrade_round_trip(stack):
    from infra.local.postgres import OWNER_ROLE

    creds = stack.creds
    name = "roundtrip"
    db.drop_database(creds.super_url, name)
    db.ensure_database(creds.super_url, database=name, owner=OWNER_ROLE, owner_password=creds.owner_password)
    url = creds.url(OWNER_ROLE, creds.owner_password, name)
    db.migrate(url)
    db.migrate_down(url, "base")
    db.migrate(url)
    db.drop_database(creds.super_url, name)
