"""Alert rules and alerts (issue 6, alerts and pacing): rules (threshold, anomaly, pacing against a monthly target,
conversion tracking stopped, connection broken) scoped to a client, one campaign or one platform of a client, with
channels, recipients and severity; alerts deduplicated to one live alert per rule and object (a partial unique
index), with their state (open, acknowledged, snoozed, resolved), the numbers that explain them, and a transition
counter that keys each notification.

Monthly pacing targets live in the pacing rule's params (`monthly_target`, in the client's currency); without one
the client's `monthly_budget` (client scope) or the campaign's budget (campaign scope) is the target.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("alert_rules", "alerts")

DDL = """
CREATE TABLE alert_rules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name varchar(200) NOT NULL,
  kind varchar(30) NOT NULL
    CHECK (kind IN ('threshold', 'anomaly', 'pacing', 'tracking_stopped', 'connection_broken')),
  scope varchar(20) NOT NULL CHECK (scope IN ('client', 'campaign', 'platform')),
  campaign_id uuid REFERENCES campaigns(id) ON DELETE CASCADE,
  platform varchar(20),
  params jsonb NOT NULL DEFAULT '{}'::jsonb,
  channels varchar(20)[] NOT NULL DEFAULT '{in_app}'::varchar[],
  recipients varchar(320)[] NOT NULL DEFAULT '{}'::varchar[],
  severity varchar(20) NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
  enabled boolean NOT NULL DEFAULT true,
  is_default boolean NOT NULL DEFAULT false,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'campaign') = (campaign_id IS NOT NULL)),
  CHECK ((scope = 'platform') = (platform IS NOT NULL))
);
CREATE INDEX ix_alert_rules_tenant_id ON alert_rules (tenant_id);
CREATE INDEX ix_alert_rules_client ON alert_rules (tenant_id, client_id, created_at);

CREATE TABLE alerts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  rule_id uuid NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
  object_key varchar(200) NOT NULL,
  campaign_id uuid REFERENCES campaigns(id) ON DELETE SET NULL,
  connection_id uuid REFERENCES platform_connections(id) ON DELETE SET NULL,
  kind varchar(30) NOT NULL,
  severity varchar(20) NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  state varchar(20) NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'acknowledged', 'snoozed', 'resolved')),
  title varchar(300) NOT NULL,
  message text NOT NULL,
  evidence jsonb NOT NULL DEFAULT '{}'::jsonb,
  firing boolean NOT NULL DEFAULT true,
  fire_count integer NOT NULL DEFAULT 1,
  transitions integer NOT NULL DEFAULT 1,
  first_fired_at timestamptz NOT NULL DEFAULT now(),
  last_fired_at timestamptz NOT NULL DEFAULT now(),
  last_evaluated_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  acknowledged_by varchar(100),
  snoozed_until timestamptz,
  resolved_at timestamptz,
  resolved_by varchar(100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_alerts_tenant_id ON alerts (tenant_id);
CREATE INDEX ix_alerts_client ON alerts (tenant_id, client_id, created_at);
CREATE UNIQUE INDEX uq_alerts_live ON alerts (rule_id, object_key) WHERE state <> 'resolved';

-- the alert job's fan-out: which tenants and clients have enabled rules (RLS hides them from the app role)
CREATE FUNCTION system_alert_scopes()
RETURNS TABLE (tenant_id uuid, client_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT r.tenant_id, r.client_id FROM alert_rules r
  JOIN clients c ON c.id = r.client_id AND c.deleted_at IS NULL
  WHERE r.enabled
  ORDER BY r.tenant_id, r.client_id
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
    op.execute("GRANT EXECUTE ON FUNCTION system_alert_scopes() TO strategist_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS system_alert_scopes()")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
