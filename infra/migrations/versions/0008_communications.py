"""Client communications: the message (client_communications), one delivery row per channel and recipient with
a unique idempotency key claimed before anything is sent (the exactly-once guard), per-tenant templates,
per-recipient consent (unsubscribe / SMS opt-in) and per-tenant settings (the webhook signing secret, encrypted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = (
    "communication_templates",
    "client_communications",
    "communication_deliveries",
    "communication_consents",
    "communication_settings",
)

DDL = """
CREATE TABLE communication_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name varchar(120) NOT NULL,
  message_type varchar(40),
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text,
  variables jsonb NOT NULL DEFAULT '[]'::jsonb,
  use_layout boolean NOT NULL DEFAULT true,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX ix_communication_templates_tenant_id ON communication_templates (tenant_id);
CREATE UNIQUE INDEX ux_communication_templates_name ON communication_templates (tenant_id, lower(name))
  WHERE deleted_at IS NULL;

CREATE TABLE client_communications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid REFERENCES clients(id) ON DELETE CASCADE,
  message_type varchar(40) NOT NULL,
  subject text NOT NULL,
  body_text text NOT NULL,
  body_html text,
  channels varchar(10)[] NOT NULL,
  template_id uuid REFERENCES communication_templates(id) ON DELETE SET NULL,
  content jsonb NOT NULL DEFAULT '{}'::jsonb,
  attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  dedupe_key varchar(255) NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'queued'
    CHECK (status IN ('scheduled', 'queued', 'sending', 'sent', 'partially_sent', 'failed', 'suppressed',
                      'dead_lettered')),
  scheduled_at timestamptz,
  enqueued_at timestamptz,
  completed_at timestamptz,
  failure_reason text,
  receive_count integer NOT NULL DEFAULT 0,
  created_by varchar(100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uq_client_communications_dedupe UNIQUE (tenant_id, dedupe_key)
);
CREATE INDEX ix_client_communications_tenant_id ON client_communications (tenant_id);
CREATE INDEX ix_client_communications_client ON client_communications (tenant_id, client_id, created_at);
CREATE INDEX ix_client_communications_due ON client_communications (scheduled_at) WHERE status = 'scheduled';

CREATE TABLE communication_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  communication_id uuid NOT NULL REFERENCES client_communications(id) ON DELETE CASCADE,
  channel varchar(10) NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'in_app')),
  recipient varchar(2048) NOT NULL,
  idempotency_key varchar(64) NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed', 'uncertain')),
  attempts integer NOT NULL DEFAULT 0,
  provider_message_id varchar(255),
  last_error text,
  claimed_at timestamptz,
  sent_at timestamptz,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uq_communication_deliveries_key UNIQUE (idempotency_key),
  CONSTRAINT uq_communication_deliveries_target UNIQUE (communication_id, channel, recipient)
);
CREATE INDEX ix_communication_deliveries_tenant_id ON communication_deliveries (tenant_id);

CREATE TABLE communication_consents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  channel varchar(10) NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'in_app')),
  recipient varchar(2048) NOT NULL,
  status varchar(12) NOT NULL CHECK (status IN ('opted_in', 'opted_out')),
  source varchar(40) NOT NULL,
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT uq_communication_consents UNIQUE (tenant_id, channel, recipient)
);
CREATE INDEX ix_communication_consents_tenant_id ON communication_consents (tenant_id);

CREATE TABLE communication_settings (
  tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  webhook_secret jsonb,
  webhook_urls varchar(2048)[] NOT NULL DEFAULT '{}'::varchar[],
  sms_numbers varchar(20)[] NOT NULL DEFAULT '{}'::varchar[],
  secret_rotated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- job_communications visits every tenant's due scheduled sends, and queued ones whose SQS nudge was lost.
CREATE FUNCTION system_due_communications(at timestamptz, horizon_s integer, lost_after_s integer)
RETURNS TABLE (id uuid, tenant_id uuid, status varchar, scheduled_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.tenant_id, c.status, c.scheduled_at
  FROM client_communications c
  WHERE (c.status = 'scheduled' AND c.scheduled_at <= at + make_interval(secs => horizon_s))
     OR (c.status = 'queued'
         AND greatest(c.enqueued_at, coalesce(c.scheduled_at, c.enqueued_at))
             < at - make_interval(secs => lost_after_s))
  ORDER BY c.scheduled_at NULLS FIRST, c.id
  LIMIT 1000
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
        "GRANT EXECUTE ON FUNCTION system_due_communications(timestamptz, integer, integer) TO strategist_app"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS system_due_communications(timestamptz, integer, integer)")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
