"""Database bootstrap and migrations, shared by the local runner, the tests and deploy helpers."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def migrate_down(owner_url: str, revision: str) -> None:
    command.downgrade(alembic_config(owner_url), revision)


def ensure_database(super_url: str, *, database: str, owner: str, owner_password: str) -> None:
    """Create the owner role and its database if missing. The owner may create roles (the migrations make the
    `strategist_app` group) but is not a superuser, as on Aurora."""
    engine = create_engine(super_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": owner}).scalar()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            text(
                f'{verb} ROLE "{owner}" LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS '
                f"PASSWORD '{_quote(owner_password)}'"
            )
        )
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).scalar():
            conn.execute(text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    engine.dispose()
    # pgvector is not a trusted extension: a superuser creates it (on Aurora the master user can).
    engine = create_engine(with_database(super_url, database), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    engine.dispose()


def ensure_app_login(owner_url: str, *, login: str, password: str) -> None:
    """The service's login: a member of `strategist_app`, owner of nothing, without BYPASSRLS."""
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": login}
        ).one_or_none()
        if row is None:
            conn.execute(
                text(f"CREATE ROLE \"{login}\" LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{_quote(password)}'")
            )
        else:
            # PostgreSQL 16+ lets only a superuser name the SUPERUSER/BYPASSRLS attributes in ALTER ROLE, even to
            # restate them, so a restart only resets the password and checks the attributes instead.
            if row.rolsuper or row.rolbypassrls:
                raise RuntimeError(f"role {login} must not be a superuser or bypass row-level security")
            conn.execute(text(f"ALTER ROLE \"{login}\" LOGIN PASSWORD '{_quote(password)}'"))
        conn.execute(text(f'GRANT strategist_app TO "{login}"'))
    engine.dispose()


def drop_database(super_url: str, database: str) -> None:
    engine = create_engine(super_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    engine.dispose()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _quote(value: str) -> str:
    return value.replace("'", "''")
