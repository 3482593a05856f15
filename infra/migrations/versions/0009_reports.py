"""Reports and report schedules (issue 7, reports slice): a rendered report of one client and period (the
figures it was built from, its HTML and PDF in S3, editable commentary, whether it is provisional and why), and
the weekly/monthly schedules that produce them in the client's time zone.

Exactly one report per schedule and period: the unique index on (tenant_id, schedule_id, period_start,
period_end) is what makes a redelivered or concurrent job insert nothing the second time.

The scheduled job runs without a tenant (it reads every tenant's due schedules and held reports), so it goes
through two SECURITY DEFINER functions that return ids only; everything else it does runs under the tenant.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("report_schedules", "performance_reports")

DDL = """
CREATE TABLE report_schedules (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name varchar(200) NOT NULL,
  frequency varchar(10) NOT NULL CHECK (frequency IN ('weekly', 'monthly')),
  day_of_week integer CHECK (day_of_week BETWEEN 1 AND 7),
  day_of_month integer CHECK (day_of_month BETWEEN 1 AND 28),
  send_hour integer NOT NULL DEFAULT 8 CHECK (send_hour BETWEEN 0 AND 23),
  recipients varchar(320)[] NOT NULL DEFAULT '{}'::varchar[],
  sections varchar(30)[] NOT NULL,
  max_hold_hours integer NOT NULL DEFAULT 72 CHECK (max_hold_hours BETWEEN 0 AND 336),
  active boolean NOT NULL DEFAULT true,
  next_run_at timestamptz,
  last_run_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((frequency = 'weekly') = (day_of_week IS NOT NULL)),
  CHECK ((frequency = 'monthly') = (day_of_month IS NOT NULL))
);
CREATE INDEX ix_report_schedules_tenant_id ON report_schedules (tenant_id);
CREATE INDEX ix_report_schedules_due ON report_schedules (next_run_at) WHERE active;

CREATE TABLE performance_reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  schedule_id uuid REFERENCES report_schedules(id) ON DELETE SET NULL,
  title varchar(200) NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  period_label varchar(20) NOT NULL,
  sections varchar(30)[] NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'queued'
    CHECK (status IN ('held', 'queued', 'ready', 'sent', 'failed')),
  provisional boolean NOT NULL DEFAULT false,
  finality jsonb NOT NULL DEFAULT '{}'::jsonb,
  hold_until timestamptz,
  commentary text,
  data jsonb,
  version integer NOT NULL DEFAULT 0,
  html_key varchar(300),
  pdf_key varchar(300),
  pdf_bytes integer,
  pdf_pages integer,
  render_ms integer,
  recipients varchar(320)[] NOT NULL DEFAULT '{}'::varchar[],
  communication_id uuid,
  error text,
  generated_at timestamptz,
  sent_at timestamptz,
  created_by varchar(100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (period_end >= period_start)
);
CREATE INDEX ix_performance_reports_tenant_id ON performance_reports (tenant_id);
CREATE INDEX ix_performance_reports_client ON performance_reports (tenant_id, client_id, created_at);
CREATE UNIQUE INDEX uq_performance_reports_schedule_period
  ON performance_reports (tenant_id, schedule_id, period_start, period_end) WHERE schedule_id IS NOT NULL;
CREATE INDEX ix_performance_reports_pending ON performance_reports (status) WHERE status IN ('held', 'queued');

CREATE FUNCTION system_due_report_schedules(at timestamptz)
RETURNS TABLE (id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.tenant_id FROM report_schedules s
  WHERE s.active AND s.next_run_at IS NOT NULL AND s.next_run_at <= at
  ORDER BY s.next_run_at, s.id
$$;

CREATE FUNCTION system_pending_reports(at timestamptz)
RETURNS TABLE (id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.id, r.tenant_id FROM performance_reports r
  WHERE r.status = 'held' OR (r.status = 'queued' AND r.updated_at < at - interval '30 minutes')
  ORDER BY r.created_at, r.id
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
    op.execute("GRANT EXECUTE ON FUNCTION system_due_report_schedules(timestamptz) TO strategist_app")
    op.execute("GRANT EXECUTE ON FUNCTION system_pending_reports(timestamptz) TO strategist_app")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS system_pending_reports(timestamptz)")
    op.execute("DROP FUNCTION IF EXISTS system_due_report_schedules(timestamptz)")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
