"""A/B experiments: variants mapped to the campaign (and breakdown) whose synced daily metrics carry their traffic,
the design (metric, minimum detectable effect, alpha, power → sample size and duration, with the baseline and the
assumptions behind them), and the stop/ship decision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("experiments",)

DDL = """
CREATE TABLE experiments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  campaign_id uuid REFERENCES campaigns(id) ON DELETE SET NULL,
  name varchar(200) NOT NULL,
  hypothesis text,
  platform varchar(20) NOT NULL,
  metric varchar(30) NOT NULL
    CHECK (metric IN ('conversion_rate', 'ctr', 'cpa', 'roas', 'revenue_per_click')),
  variants jsonb NOT NULL,
  mde numeric(8, 6) NOT NULL CHECK (mde > 0 AND mde <= 1),
  alpha numeric(8, 6) NOT NULL CHECK (alpha > 0 AND alpha < 1),
  power numeric(8, 6) NOT NULL CHECK (power > 0 AND power < 1),
  required_sample_size_per_variant bigint,
  expected_duration_days integer,
  design jsonb NOT NULL DEFAULT '{}'::jsonb,
  status varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'stopped', 'shipped')),
  started_at timestamptz,
  stopped_at timestamptz,
  decision jsonb,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_experiments_tenant_id ON experiments (tenant_id);
CREATE INDEX ix_experiments_client ON experiments (tenant_id, client_id, created_at);
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


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
