"""Strategies (versioned, with a pgvector embedding of the brief), content strategies, budget optimizations,
fitted response models, per-tenant language-model usage, and the link from campaigns to their strategy.

pgvector: the extension must exist before this runs; CREATE EXTENSION needs a superuser (locally the bootstrap
creates it; on Aurora the master user, an rds_superuser, can).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("marketing_strategies", "content_strategies", "budget_optimizations", "fitted_models", "llm_usage")
EMBEDDING_DIM = 256

DDL = f"""
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE marketing_strategies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  lineage_id uuid NOT NULL,
  version integer NOT NULL DEFAULT 1,
  name varchar(300) NOT NULL,
  objective varchar(50) NOT NULL,
  campaign_type varchar(50),
  status varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'launched', 'archived')),
  currency varchar(3) NOT NULL,
  total_budget numeric(18, 2) NOT NULL,
  duration_days integer NOT NULL,
  start_date date,
  platforms varchar(20)[] NOT NULL,
  estimated_roi numeric(12, 4),
  brief jsonb NOT NULL,
  result jsonb NOT NULL,
  embedding vector({EMBEDDING_DIM}),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lineage_id, version)
);
CREATE INDEX ix_marketing_strategies_tenant_id ON marketing_strategies (tenant_id);
CREATE INDEX ix_marketing_strategies_client ON marketing_strategies (tenant_id, client_id, created_at);
CREATE INDEX ix_marketing_strategies_embedding ON marketing_strategies USING hnsw (embedding vector_cosine_ops);

CREATE TABLE content_strategies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  strategy_id uuid NOT NULL REFERENCES marketing_strategies(id) ON DELETE CASCADE,
  platform varchar(20) NOT NULL,
  content jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_content_strategies_tenant_id ON content_strategies (tenant_id);
CREATE INDEX ix_content_strategies_strategy ON content_strategies (strategy_id);

CREATE TABLE budget_optimizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  mode varchar(30) NOT NULL,
  currency varchar(3) NOT NULL,
  total_budget numeric(18, 2),
  status varchar(20) NOT NULL DEFAULT 'proposed'
    CHECK (status IN ('proposed', 'approved', 'applied', 'rejected', 'superseded')),
  request jsonb NOT NULL,
  result jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_budget_optimizations_tenant_id ON budget_optimizations (tenant_id);
CREATE INDEX ix_budget_optimizations_client ON budget_optimizations (tenant_id, client_id, created_at);

CREATE TABLE fitted_models (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  kind varchar(40) NOT NULL,
  scope varchar(100) NOT NULL,
  data_through date,
  n_days integer NOT NULL DEFAULT 0,
  params jsonb NOT NULL,
  diagnostics jsonb NOT NULL DEFAULT '{{}}'::jsonb,
  fitted_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, client_id, kind, scope)
);
CREATE INDEX ix_fitted_models_tenant_id ON fitted_models (tenant_id);

CREATE TABLE llm_usage (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  month date NOT NULL,
  provider varchar(20) NOT NULL,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  calls integer NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, month, provider)
);

ALTER TABLE campaigns ADD COLUMN strategy_id uuid REFERENCES marketing_strategies(id) ON DELETE SET NULL;
CREATE INDEX ix_campaigns_strategy ON campaigns (strategy_id) WHERE strategy_id IS NOT NULL;
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
    op.execute("ALTER TABLE campaigns DROP COLUMN IF EXISTS strategy_id")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
