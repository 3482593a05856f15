"""One SQLAlchemy engine per process (per Lambda container), built from settings.

On AWS the host is the RDS Proxy endpoint, credentials come from Secrets Manager and TLS is required; locally
DATABASE_URL points at the embedded server.
"""

from __future__ import annotations

import json
import os
import ssl
import threading

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from strategist.config import Settings, get_settings

_lock = threading.Lock()
_engine: Engine | None = None
_sessions: sessionmaker[Session] | None = None


def _url_from_secret(settings: Settings) -> URL:
    from strategist.adapters.aws.clients import aws_client

    secret = aws_client("secretsmanager").get_secret_value(SecretId=settings.db_secret_arn)
    data = json.loads(secret["SecretString"])
    return URL.create(
        "postgresql+pg8000",
        username=data["username"],
        password=data["password"],
        host=settings.db_host or data.get("host"),
        port=int(data.get("port", settings.db_port)),
        database=settings.db_name,
    )


def build_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url: str | URL = settings.database_url or _url_from_secret(settings)
    connect_args: dict[str, object] = {"timeout": 10}
    if not settings.database_url and settings.db_ssl:
        connect_args["ssl_context"] = ssl.create_default_context()
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=int(os.environ.get("DB_POOL_SIZE", "5")),
        max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "10")),
        pool_pre_ping=True,
        pool_recycle=300,
    )


def get_sessionmaker() -> sessionmaker[Session]:
    global _engine, _sessions
    if _sessions is None:
        with _lock:
            if _sessions is None:
                _engine = build_engine()
                _sessions = sessionmaker(_engine, expire_on_commit=False)
    return _sessions


def get_engine() -> Engine:
    get_sessionmaker()
    assert _engine is not None
    return _engine


def reset_engine() -> None:
    """Tests and the local runner point the process at another database."""
    global _engine, _sessions
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine, _sessions = None, None
