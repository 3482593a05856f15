"""Ad-platform connections, campaigns, daily campaign metrics, sync runs, and FX reference rates.

campaign_metrics is one row per campaign per platform-local day per breakdown ('' = the campaign total), keyed
for idempotent upsert, with native currency, the platform's time zone, attribution window, source and synced_at.
fx_rates is reference data (ECB euro rates), not tenant data: no RLS, read-only for the service.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("platform_connections", "campaigns", "campaign_metrics", "sync_runs")
PLATFORMS = "('google_ads', 'youtube_ads', 'meta_ads', 'linkedin_ads', 'tiktok_ads', 'email')"

DDL = f"""
CREATE TABLE platform_connections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  platform varchar(20) NOT NULL CHECK (platform IN {PLATFORMS}),
  account_id varchar(64) NOT NULL,
  name varchar(200) NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'broken', 'disconnected')),
  broken_reason text,
  broken_at timestamptz,
  credentials jsonb NOT NULL,
  base_url varchar(500),
  currency varchar(3),
  time_zone varchar(64),
  restatement_days integer NOT NULL DEFAULT 7 CHECK (restatement_days BETWEEN 1 AND 90),
  backfill_days integer NOT NULL DEFAULT 730 CHECK (backfill_days BETWEEN 1 AND 1100),
  backfill jsonb NOT NULL DEFAULT '{{}}'::jsonb,
  data_as_of timestamptz,
  data_through date,
  last_sync_at timestamptz,
  last_sync_status varchar(20),
  last_error text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX ix_platform_connections_tenant_id ON platform_connections (tenant_id);
CREATE INDEX ix_platform_connections_client ON platform_connections (tenant_id, client_id);
CREATE UNIQUE INDEX ux_platform_connections_account ON platform_connections (tenant_id, platform, account_id)
  WHERE deleted_at IS NULL;

CREATE TABLE campaigns (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  connection_id uuid REFERENCES platform_connections(id) ON DELETE SET NULL,
  platform varchar(20) NOT NULL CHECK (platform IN {PLATFORMS}),
  external_id varchar(64) NOT NULL,
  name varchar(300) NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'active',
  raw_status varchar(50),
  objective varchar(100),
  budget_amount numeric(18, 6),
  budget_type varchar(20),
  currency varchar(3) NOT NULL,
  time_zone varchar(64),
  start_date date,
  end_date date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_synced_at timestamptz
);
CREATE INDEX ix_campaigns_tenant_id ON campaigns (tenant_id);
CREATE INDEX ix_campaigns_client ON campaigns (tenant_id, client_id, platform);
CREATE UNIQUE INDEX ux_campaigns_external ON campaigns (tenant_id, client_id, platform, external_id);

CREATE TABLE campaign_metrics (
  -- no foreign key on tenant_id: the campaign's already implies the tenant (and cascades), and a second
  -- per-row check cost ~13 % of the bulk upsert (bench/upsert_throughput.py: 48k -> 55k rows/s)
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
  date date NOT NULL,
  breakdown varchar(100) NOT NULL DEFAULT '',
  currency varchar(3) NOT NULL,
  cost numeric(18, 6) NOT NULL DEFAULT 0,
  impressions bigint NOT NULL DEFAULT 0,
  clicks bigint NOT NULL DEFAULT 0,
  conversions numeric(18, 6) NOT NULL DEFAULT 0,
  conversion_value numeric(18, 6) NOT NULL DEFAULT 0,
  video_views bigint,
  reach bigint,
  time_zone varchar(64) NOT NULL,
  attribution_window varchar(40) NOT NULL,
  source varchar(200) NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, date, breakdown)
);
CREATE INDEX ix_campaign_metrics_tenant_date ON campaign_metrics (tenant_id, date);

CREATE TABLE sync_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  connection_id uuid NOT NULL REFERENCES platform_connections(id) ON DELETE CASCADE,
  kind varchar(20) NOT NULL,
  window_start date NOT NULL,
  window_end date NOT NULL,
  status varchar(20) NOT NULL,
  rows_upserted integer NOT NULL DEFAULT 0,
  campaigns_seen integer NOT NULL DEFAULT 0,
  error text,
  message_id varchar(100),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX ix_sync_runs_tenant_id ON sync_runs (tenant_id);
CREATE INDEX ix_sync_runs_connection ON sync_runs (connection_id, started_at DESC);

CREATE TABLE fx_rates (
  currency varchar(3) NOT NULL,
  date date NOT NULL,
  per_eur numeric(20, 10) NOT NULL CHECK (per_eur > 0),
  source varchar(200) NOT NULL,
  PRIMARY KEY (currency, date)
);

-- The hourly sync visits every live connection of every tenant; this tells it which.
CREATE FUNCTION system_active_connections()
RETURNS TABLE (id uuid, tenant_id uuid, platform varchar, backfill_complete boolean, backfill_queued_at text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.tenant_id, c.platform, coalesce((c.backfill->>'complete')::boolean, true),
         c.backfill->>'queued_at'
  FROM platform_connections c
  WHERE c.deleted_at IS NULL AND c.status = 'active' AND c.platform <> 'email'
  ORDER BY c.tenant_id, c.id
$$;
"""


def upgrade() -> None:
    op.execute(DDL)
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY tenant_isolation ON {table} USING (tenant_id = {CURRENT_TENANT}) "
            f"WITH CHECK (tenant_id = {CURRENT_TENANT});"
        )
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO strategist_app")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE ON fx_rates TO strategist_app"
    )  # reference data: the FX job loads it
    op.execute("GRANT EXECUTE ON FUNCTION system_active_connections() TO strategist_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS system_active_connections()")
    for table in ("fx_rates", *reversed(TABLES)):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
