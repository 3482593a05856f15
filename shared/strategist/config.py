"""Settings from the environment: the only place that reads os.environ.

Lambda and the local runner set the same variables, so a handler never knows where it runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    stage: str = "dev"
    region: str = "us-east-1"
    aws_endpoint_url: str = ""
    # Database: either a full URL (local) or host + a Secrets Manager secret with username/password (AWS).
    database_url: str = ""
    db_host: str = ""
    db_port: int = 5432
    db_name: str = "strategist"
    db_secret_arn: str = ""
    db_ssl: bool = True
    jwt_secret_arn: str = ""
    jwt_issuer: str = "marketing-strategist"
    jwt_audience: str = "marketing-strategist-api"
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 86400
    max_body_bytes: int = 1_048_576
    event_bus_name: str = ""
    queue_urls: dict[str, str] = field(default_factory=dict)
    data_bucket: str = ""
    kms_key_id: str = ""
    sender_email: str = ""
    public_base_url: str = "http://127.0.0.1:8029"
    #: Where the ad-platform connectors send requests; empty means each platform's real host. The local stack
    #: points it at the simulated ad-platform server. Operators set it, never API callers (that would be SSRF).
    platform_api_base_url: str = ""
    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    queues = {
        key[len("QUEUE_URL_") :].lower(): value
        for key, value in os.environ.items()
        if key.startswith("QUEUE_URL_") and value
    }
    return Settings(
        stage=_env("STAGE", "dev"),
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
        aws_endpoint_url=_env("AWS_ENDPOINT_URL"),
        database_url=_env("DATABASE_URL"),
        db_host=_env("DB_HOST"),
        db_port=int(_env("DB_PORT", "5432")),
        db_name=_env("DB_NAME", "strategist"),
        db_secret_arn=_env("DB_SECRET_ARN"),
        db_ssl=_env("DB_SSL", "true").lower() in {"1", "true", "yes"},
        jwt_secret_arn=_env("JWT_SECRET_ARN"),
        access_token_ttl_s=int(_env("ACCESS_TOKEN_TTL_S", "900")),
        refresh_token_ttl_s=int(_env("REFRESH_TOKEN_TTL_S", str(30 * 86400))),
        max_body_bytes=int(_env("MAX_BODY_BYTES", "1048576")),
        event_bus_name=_env("EVENT_BUS_NAME"),
        queue_urls=queues,
        data_bucket=_env("DATA_BUCKET"),
        kms_key_id=_env("KMS_KEY_ID"),
        sender_email=_env("SENDER_EMAIL"),
        public_base_url=_env("PUBLIC_BASE_URL", "http://127.0.0.1:8029"),
        platform_api_base_url=_env("PLATFORM_API_BASE_URL"),
        log_level=_env("LOG_LEVEL", "INFO"),
    )


def reset_settings() -> None:
    """Tests and the local runner change the environment; drop the cached view of it."""
    get_settings.cache_clear()
