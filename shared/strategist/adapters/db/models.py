"""SQLAlchemy 2.0 models. The schema itself is owned by the Alembic migrations in infra/migrations;
tests/integration/test_schema.py fails when the two disagree."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dict[str, Any]: JSONB,
        uuid.UUID: UUID(as_uuid=True),
        dt.datetime: DateTime(timezone=True),
    }


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _created() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _tenant_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True)


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    branding: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class User(Base):
    __tablename__ = "users"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    client_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default=text("'{}'::uuid[]")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[dt.datetime] = _created()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    __tablename__ = "invitations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    client_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default=text("'{}'::uuid[]")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    client_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    industry: Mapped[str] = mapped_column(String(50))
    currency: Mapped[str] = mapped_column(String(3))
    reporting_timezone: Mapped[str] = mapped_column(String(64))
    kpis: Mapped[list[str]] = mapped_column(ARRAY(String(30)), server_default=text("'{}'::varchar[]"))
    goals: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    monthly_budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    branding: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    contact_emails: Mapped[list[str]] = mapped_column(
        ARRAY(String(320)), server_default=text("'{}'::varchar[]")
    )
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()


class OutboxEvent(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    event_type: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _created()
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)


class ProcessedMessage(Base):
    """What a worker has already done, keyed by its idempotency key: redelivery must not act twice."""

    __tablename__ = "processed_messages"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    processed_at: Mapped[dt.datetime] = _created()


#: Every table that carries tenant data; each gets a row-level-security policy (tenants itself on `id`).
TENANT_TABLES: tuple[str, ...] = (
    "users",
    "invitations",
    "api_keys",
    "refresh_tokens",
    "clients",
    "idempotency_keys",
    "audit_log",
    "outbox",
    "processed_messages",
)


# -- ad platforms, campaigns and their daily metrics (migration 0003) --------------------------------------------
class PlatformConnection(Base):
    __tablename__ = "platform_connections"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'active'"))
    broken_reason: Mapped[str | None] = mapped_column(Text)
    broken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    credentials: Mapped[dict[str, Any]] = mapped_column(JSONB)  # KMS envelope, never plaintext
    base_url: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str | None] = mapped_column(String(3))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    restatement_days: Mapped[int] = mapped_column(Integer, server_default=text("7"))
    backfill_days: Mapped[int] = mapped_column(Integer, server_default=text("730"))
    backfill: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    data_as_of: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    data_through: Mapped[dt.date | None] = mapped_column(Date)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_status: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_connections.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'active'"))
    raw_status: Mapped[str | None] = mapped_column(String(50))
    objective: Mapped[str | None] = mapped_column(String(100))
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    budget_type: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    strategy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("marketing_strategies.id", ondelete="SET NULL")
    )


class CampaignMetric(Base):
    __tablename__ = "campaign_metrics"
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    breakdown: Mapped[str] = mapped_column(String(100), primary_key=True, server_default=text("''"))
    currency: Mapped[str] = mapped_column(String(3))
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 6), server_default=text("0"))
    impressions: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    clicks: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    conversions: Mapped[Decimal] = mapped_column(Numeric(18, 6), server_default=text("0"))
    conversion_value: Mapped[Decimal] = mapped_column(Numeric(18, 6), server_default=text("0"))
    video_views: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    time_zone: Mapped[str] = mapped_column(String(64))
    attribution_window: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    synced_at: Mapped[dt.datetime] = _created()
    # issue 7, assistant slice (migration 0010): Google Ads search impression share, fractions; NULL elsewhere
    search_impression_share: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))
    search_rank_lost_impression_share: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))
    search_budget_lost_impression_share: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))


class SyncRun(Base):
    __tablename__ = "sync_runs"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platform_connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    rows_upserted: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    campaigns_seen: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = _created()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class FxRate(Base):
    """ECB euro reference rates: how many units of `currency` one euro bought on `date`."""

    __tablename__ = "fx_rates"
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    per_eur: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    source: Mapped[str] = mapped_column(String(200))


TENANT_TABLES = (*TENANT_TABLES, "platform_connections", "campaigns", "campaign_metrics", "sync_runs")


# -- strategies, budgets, fitted models, language-model usage (migration 0004) -----------------------------------
EMBEDDING_DIM = 256


class MarketingStrategy(Base):
    """One version of a strategy; versions of the same plan share a lineage_id."""

    __tablename__ = "marketing_strategies"
    __table_args__ = (UniqueConstraint("lineage_id", "version"),)
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    lineage_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    name: Mapped[str] = mapped_column(String(300))
    objective: Mapped[str] = mapped_column(String(50))
    campaign_type: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'draft'"))
    currency: Mapped[str] = mapped_column(String(3))
    total_budget: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    duration_days: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    platforms: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    estimated_roi: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    brief: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIM))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()


class ContentStrategy(Base):
    __tablename__ = "content_strategies"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    strategy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("marketing_strategies.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(20))
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _created()


class BudgetOptimization(Base):
    __tablename__ = "budget_optimizations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    total_budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'proposed'"))
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()


class FittedModel(Base):
    """A fitted response model per client and scope (a platform, a campaign), reused until new data arrives."""

    __tablename__ = "fitted_models"
    __table_args__ = (UniqueConstraint("tenant_id", "client_id", "kind", "scope"),)
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(100))
    data_through: Mapped[dt.date | None] = mapped_column(Date)
    n_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    diagnostics: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    fitted_at: Mapped[dt.datetime] = _created()


class LlmUsage(Base):
    __tablename__ = "llm_usage"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    input_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    output_tokens: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    calls: Mapped[int] = mapped_column(Integer, server_default=text("0"))


TENANT_TABLES = (
    *TENANT_TABLES,
    "marketing_strategies",
    "content_strategies",
    "budget_optimizations",
    "fitted_models",
    "llm_usage",
)


# -- A/B experiments (migration 0005) ------------------------------------------------------------------------
class Experiment(Base):
    """An A/B test whose variants are read from synced campaign metrics (a campaign, or one of its breakdowns)."""

    __tablename__ = "experiments"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    hypothesis: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(30))
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    mde: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    alpha: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    power: Mapped[Decimal] = mapped_column(Numeric(8, 6))
    required_sample_size_per_variant: Mapped[int | None] = mapped_column(BigInteger)
    expected_duration_days: Mapped[int | None] = mapped_column(Integer)
    design: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'draft'"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (*TENANT_TABLES, "experiments")


# -- client communications (migration 0008, issue 7 communications slice) ------------------------------------------
class CommunicationTemplate(Base):
    """A tenant's message template: sandboxed Jinja2 subject/text/HTML, rendered inside the branded layout."""

    __tablename__ = "communication_templates"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(120))
    message_type: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    use_layout: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ClientCommunication(Base):
    """One message to a client (or tenant-level, client_id NULL) over one or more channels."""

    __tablename__ = "client_communications"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key", name="uq_client_communications_dedupe"),)
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    message_type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    channels: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("communication_templates.id", ondelete="SET NULL")
    )
    content: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, server_default=text("'{}'::jsonb"))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'queued'"))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    receive_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class CommunicationDelivery(Base):
    """One (communication, channel, recipient): claimed by its unique idempotency key before anything is sent."""

    __tablename__ = "communication_deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_communication_deliveries_key"),
        UniqueConstraint(
            "communication_id", "channel", "recipient", name="uq_communication_deliveries_target"
        ),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    communication_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_communications.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(2048))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class CommunicationConsent(Base):
    """A recipient's consent on one channel: opted_out (unsubscribed) suppresses; SMS needs opted_in."""

    __tablename__ = "communication_consents"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "recipient", name="uq_communication_consents"),
    )
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class CommunicationSettings(Base):
    """Per tenant: the webhook signing secret (KMS envelope), default webhook URLs and SMS numbers."""

    __tablename__ = "communication_settings"
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    webhook_secret: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    webhook_urls: Mapped[list[str]] = mapped_column(
        ARRAY(String(2048)), server_default=text("'{}'::varchar[]")
    )
    sms_numbers: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default=text("'{}'::varchar[]"))
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (
    *TENANT_TABLES,
    "communication_templates",
    "client_communications",
    "communication_deliveries",
    "communication_consents",
    "communication_settings",
)


# -- issue 7, assistant slice: assistant conversations and competitor analysis (migration 0010) ----------------
class AssistantConversation(Base):
    """One caller's conversation with the assistant about one client (owner = "user:<id>" or "api_key:<id>")."""

    __tablename__ = "assistant_conversations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class AssistantMessage(Base):
    """A question or an answer; an answer keeps the tool calls, the citations and how its prose was written."""

    __tablename__ = "assistant_messages"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(40))
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    writer: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()


class CompetitorData(Base):
    """Competitor evidence as uploaded: an auction-insights export, Ad Library records or manual observations."""

    __tablename__ = "competitor_data"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    row_count: Mapped[int] = mapped_column(Integer)
    notes: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = _created()


class CompetitorAnalysis(Base):
    """A stored analysis: competitors, share-of-voice trends and detected moves, each with its evidence."""

    __tablename__ = "competitor_analysis"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    request: Mapped[dict[str, Any]] = mapped_column(JSONB)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (
    *TENANT_TABLES,
    "assistant_conversations",
    "assistant_messages",
    "competitor_data",
    "competitor_analysis",
)


# -- issue 6, alerts and pacing slice: alert rules and alerts (migration 0007) --------------------------------
class AlertRule(Base):
    """What to watch (kind + params), where (client, one campaign, or one platform of the client), whom to tell."""

    __tablename__ = "alert_rules"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    platform: Mapped[str | None] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    channels: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), server_default=text("'{in_app}'::varchar[]")
    )
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(320)), server_default=text("'{}'::varchar[]"))
    severity: Mapped[str] = mapped_column(String(20), server_default=text("'warning'"))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    is_default: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class Alert(Base):
    """One live alert per (rule, object): re-firing updates it; the numbers that explain it are in evidence."""

    __tablename__ = "alerts"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    object_key: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_connections.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), server_default=text("'open'"))
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    firing: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    fire_count: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    transitions: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    first_fired_at: Mapped[dt.datetime] = _created()
    last_fired_at: Mapped[dt.datetime] = _created()
    last_evaluated_at: Mapped[dt.datetime] = _created()
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    snoozed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (*TENANT_TABLES, "alert_rules", "alerts")


# -- issue 7, reports slice: performance reports and report schedules (migration 0009) -------------------------
class ReportSchedule(Base):
    """A weekly or monthly report of one client, due at send_hour on a weekday / day of month in the client's
    reporting time zone; next_run_at is that instant in UTC."""

    __tablename__ = "report_schedules"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(10))
    day_of_week: Mapped[int | None] = mapped_column(Integer)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    send_hour: Mapped[int] = mapped_column(Integer, server_default=text("8"))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(320)), server_default=text("'{}'::varchar[]"))
    sections: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    max_hold_hours: Mapped[int] = mapped_column(Integer, server_default=text("72"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    next_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class PerformanceReport(Base):
    """One client's report for one period: the figures (data), the rendered HTML/PDF in S3 (keys built from ids
    only), commentary, and whether it waited for final data or went out provisional."""

    __tablename__ = "performance_reports"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("report_schedules.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    period_label: Mapped[str] = mapped_column(String(20))
    sections: Mapped[list[str]] = mapped_column(ARRAY(String(30)))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'queued'"))
    provisional: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    finality: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    hold_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    commentary: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    html_key: Mapped[str | None] = mapped_column(String(300))
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    pdf_bytes: Mapped[int | None] = mapped_column(Integer)
    pdf_pages: Mapped[int | None] = mapped_column(Integer)
    render_ms: Mapped[int | None] = mapped_column(Integer)
    recipients: Mapped[list[str]] = mapped_column(ARRAY(String(320)), server_default=text("'{}'::varchar[]"))
    communication_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    error: Mapped[str | None] = mapped_column(Text)
    generated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (*TENANT_TABLES, "report_schedules", "performance_reports")


# -- issue 6, optimize slice: optimizations, recommendations, automation rules (migration 0006) -----------------
class CampaignOptimization(Base):
    """One optimize run for a campaign (the brief's campaign_optimizations), or a budget optimization turned into
    recommendations; its recommendations are rows of optimization_recommendations."""

    __tablename__ = "campaign_optimizations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    optimization_type: Mapped[str] = mapped_column(String(20))
    implementation_priority: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(30), server_default=text("'api'"))
    source_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    window_start: Mapped[dt.date | None] = mapped_column(Date)
    window_end: Mapped[dt.date | None] = mapped_column(Date)
    summary: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()


class AutomationRule(Base):
    __tablename__ = "automation_rules"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), server_default=text("'{}'::uuid[]")
    )
    platform: Mapped[str | None] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(20))
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    window_days: Mapped[int] = mapped_column(Integer)
    min_conversions: Mapped[Decimal] = mapped_column(Numeric(18, 6), server_default=text("0"))
    min_spend: Mapped[Decimal] = mapped_column(Numeric(18, 6), server_default=text("0"))
    action: Mapped[str] = mapped_column(String(20))
    action_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    schedule: Mapped[str] = mapped_column(String(10), server_default=text("'daily'"))
    mode: Mapped[str] = mapped_column(String(10), server_default=text("'dry_run'"))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class OptimizationRecommendation(Base):
    """One recommendation: evidence, expected impact, the exact platform changes, and its apply/approve/undo
    trail (who asked, who approved, what the platform held before and after)."""

    __tablename__ = "optimization_recommendations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    optimization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_optimizations.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("automation_rules.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10))
    confidence: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB)
    expected_impact: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'proposed'"))
    requested_by: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(100))
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


TENANT_TABLES = (
    *TENANT_TABLES,
    "campaign_optimizations",
    "automation_rules",
    "optimization_recommendations",
)


# -- issue 8, live updates slice: open WebSocket connections ---------------------------------------------------------
class LiveConnection(Base):
    """One open dashboard WebSocket (an API Gateway connection id) and who opened it: the push function sends a
    tenant's events only to its connections, and a client-scoped principal's only about its clients."""

    __tablename__ = "live_connections"
    connection_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = _tenant_fk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    role: Mapped[str] = mapped_column(String(20))
    client_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    endpoint: Mapped[str] = mapped_column(String(500))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    connected_at: Mapped[dt.datetime] = _created()
    last_seen_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


TENANT_TABLES = (*TENANT_TABLES, "live_connections")
# -- end of the live updates slice ------------------------------------------------------------------------------------
