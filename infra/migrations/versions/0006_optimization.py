"""Campaign optimization (issue 6, optimize slice): optimization runs (the brief's campaign_optimizations), their
recommendations with evidence, expected impact and the exact platform change, the apply / approve / undo trail
on each recommendation, and automation rules (condition over a window, action, scope, schedule, dry run).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("campaign_optimizations", "optimization_recommendations", "automation_rules")

DDL = """
CREATE TABLE campaign_optimizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  campaign_id uuid REFERENCES campaigns(id) ON DELETE SET NULL,
  optimization_type varchar(20) NOT NULL
    CHECK (optimization_type IN ('performance', 'budget', 'bidding', 'creative', 'audience')),
  implementation_priority varchar(10) NOT NULL CHECK (implementation_priority IN ('low', 'medium', 'high')),
  source varchar(30) NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'job', 'budget_optimization')),
  source_id uuid,
  window_start date,
  window_end date,
  summary jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_by varchar(100),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_campaign_optimizations_tenant_id ON campaign_optimizations (tenant_id);
CREATE INDEX ix_campaign_optimizations_client ON campaign_optimizations (tenant_id, client_id, created_at);

CREATE TABLE automation_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name varchar(200) NOT NULL,
  client_id uuid REFERENCES clients(id) ON DELETE CASCADE,
  campaign_ids uuid[] NOT NULL DEFAULT '{}'::uuid[],
  platform varchar(20),
  metric varchar(20) NOT NULL,
  operator varchar(2) NOT NULL CHECK (operator IN ('>', '>=', '<', '<=')),
  threshold numeric(18, 6) NOT NULL,
  window_days integer NOT NULL CHECK (window_days BETWEEN 1 AND 90),
  min_conversions numeric(18, 6) NOT NULL DEFAULT 0,
  min_spend numeric(18, 6) NOT NULL DEFAULT 0,
  action varchar(20) NOT NULL CHECK (action IN ('pause', 'enable', 'scale_budget', 'set_budget', 'notify')),
  action_value numeric(18, 6),
  schedule varchar(10) NOT NULL DEFAULT 'daily' CHECK (schedule IN ('daily', 'weekly')),
  mode varchar(10) NOT NULL DEFAULT 'dry_run' CHECK (mode IN ('dry_run', 'live')),
  enabled boolean NOT NULL DEFAULT true,
  last_evaluated_at timestamptz,
  created_by varchar(100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_automation_rules_tenant_id ON automation_rules (tenant_id);

CREATE TABLE optimization_recommendations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  optimization_id uuid NOT NULL REFERENCES campaign_optimizations(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  campaign_id uuid REFERENCES campaigns(id) ON DELETE SET NULL,
  rule_id uuid REFERENCES automation_rules(id) ON DELETE SET NULL,
  kind varchar(30) NOT NULL,
  title text NOT NULL,
  rationale text NOT NULL,
  priority varchar(10) NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
  confidence numeric(6, 4) NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  evidence jsonb NOT NULL,
  expected_impact jsonb NOT NULL DEFAULT '{}'::jsonb,
  changes jsonb NOT NULL DEFAULT '[]'::jsonb,
  dry_run boolean NOT NULL DEFAULT false,
  status varchar(20) NOT NULL DEFAULT 'proposed' CHECK (status IN
    ('proposed', 'pending_approval', 'applied', 'undone', 'failed', 'conflict', 'superseded')),
  requested_by varchar(100),
  requested_at timestamptz,
  approved_by varchar(100),
  approved_at timestamptz,
  applied_by varchar(100),
  applied_at timestamptz,
  undone_by varchar(100),
  undone_at timestamptz,
  result jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_optimization_recommendations_tenant_id ON optimization_recommendations (tenant_id);
CREATE INDEX ix_optimization_recommendations_optimization ON optimization_recommendations (optimization_id);
CREATE INDEX ix_optimization_recommendations_client ON optimization_recommendations (tenant_id, client_id, created_at);
CREATE INDEX ix_optimization_recommendations_campaign ON optimization_recommendations (campaign_id, applied_at);

-- The daily optimize job visits every tenant that has an active campaign of a live client; this tells it which.
CREATE FUNCTION system_optimizable_tenants()
RETURNS TABLE (tenant_id uuid, campaigns bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.tenant_id, count(*)
  FROM campaigns c JOIN clients k ON k.id = c.client_id
  WHERE c.status = 'active' AND k.deleted_at IS NULL
  GROUP BY c.tenant_id
  ORDER BY c.tenant_id
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
    op.execute("GRANT EXECUTE ON FUNCTION system_optimizable_tenants() TO strategist_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS system_optimizable_tenants()")
    for table in ("optimization_recommendations", "automation_rules", "campaign_optimizations"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
