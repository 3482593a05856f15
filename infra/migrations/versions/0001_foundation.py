"""Foundation: tenants, users, invitations, API keys, refresh tokens, clients, idempotency, audit, outbox.

Row-level security on every tenant-owned table; the service connects as a member of `strategist_app`,
which has no BYPASSRLS and owns nothing, so a forgotten WHERE cannot leak. Log-in needs a look-up before the
tenant is known: SECURITY DEFINER functions (owned by the migration role) answer exactly those look-ups.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = (
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

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"

DDL = """
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'strategist_app') THEN
    CREATE ROLE strategist_app NOLOGIN NOBYPASSRLS;
  END IF;
END $$;

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name varchar(200) NOT NULL,
  is_demo boolean NOT NULL DEFAULT false,
  settings jsonb NOT NULL DEFAULT '{}'::jsonb,
  branding jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email varchar(320) NOT NULL,
  name varchar(200) NOT NULL,
  password_hash text NOT NULL,
  role varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'client_viewer')),
  client_ids uuid[] NOT NULL DEFAULT '{}'::uuid[],
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE INDEX ix_users_tenant_id ON users (tenant_id);
CREATE UNIQUE INDEX ux_users_email ON users (lower(email));

CREATE TABLE invitations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email varchar(320) NOT NULL,
  role varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'client_viewer')),
  client_ids uuid[] NOT NULL DEFAULT '{}'::uuid[],
  token_hash varchar(64) NOT NULL UNIQUE,
  invited_by uuid,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_invitations_tenant_id ON invitations (tenant_id);

CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name varchar(200) NOT NULL,
  prefix varchar(16) NOT NULL UNIQUE,
  key_hash varchar(64) NOT NULL,
  role varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'client_viewer')),
  client_ids uuid[],
  scopes varchar(20)[] NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX ix_api_keys_tenant_id ON api_keys (tenant_id);

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash varchar(64) NOT NULL UNIQUE,
  family_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_refresh_tokens_tenant_id ON refresh_tokens (tenant_id);

CREATE TABLE clients (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name varchar(200) NOT NULL,
  industry varchar(50) NOT NULL,
  currency varchar(3) NOT NULL,
  reporting_timezone varchar(64) NOT NULL,
  kpis varchar(30)[] NOT NULL DEFAULT '{}'::varchar[],
  goals jsonb NOT NULL DEFAULT '{}'::jsonb,
  monthly_budget numeric(14, 2),
  branding jsonb NOT NULL DEFAULT '{}'::jsonb,
  contact_emails varchar(320)[] NOT NULL DEFAULT '{}'::varchar[],
  is_demo boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX ix_clients_tenant_id ON clients (tenant_id);
CREATE INDEX ix_clients_tenant_created ON clients (tenant_id, created_at, id);

CREATE TABLE idempotency_keys (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  key varchar(255) NOT NULL,
  method varchar(10) NOT NULL,
  path text NOT NULL,
  request_hash varchar(64) NOT NULL,
  status_code integer,
  response_body jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key)
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  actor varchar(100) NOT NULL,
  action varchar(100) NOT NULL,
  entity_type varchar(50) NOT NULL,
  entity_id varchar(100),
  before jsonb,
  after jsonb,
  request_id varchar(100),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_log_tenant_id ON audit_log (tenant_id);

CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  event_type varchar(100) NOT NULL,
  detail jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX ix_outbox_tenant_id ON outbox (tenant_id);
CREATE INDEX ix_outbox_pending ON outbox (tenant_id, id) WHERE published_at IS NULL;

CREATE TABLE processed_messages (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  consumer varchar(100) NOT NULL,
  message_key varchar(255) NOT NULL,
  result jsonb,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, consumer, message_key)
);

-- Look-ups that must happen before the tenant is known. Each answers exactly one question by an
-- unguessable or user-supplied key; search_path is pinned so a caller cannot shadow the tables.
CREATE FUNCTION auth_user_by_email(p_email text)
RETURNS TABLE (id uuid, tenant_id uuid, password_hash text, role varchar, client_ids uuid[], is_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.id, u.tenant_id, u.password_hash, u.role, u.client_ids, u.is_active
  FROM users u WHERE lower(u.email) = lower(p_email)
$$;

CREATE FUNCTION auth_api_key_by_prefix(p_prefix text)
RETURNS TABLE (id uuid, tenant_id uuid, key_hash varchar, role varchar, client_ids uuid[], scopes varchar[],
               expires_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id, k.key_hash, k.role, k.client_ids, k.scopes, k.expires_at, k.revoked_at
  FROM api_keys k WHERE k.prefix = p_prefix
$$;

CREATE FUNCTION auth_refresh_token(p_hash text)
RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, family_id uuid, expires_at timestamptz,
               revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.id, r.tenant_id, r.user_id, r.family_id, r.expires_at, r.revoked_at
  FROM refresh_tokens r WHERE r.token_hash = p_hash
$$;

CREATE FUNCTION auth_invitation_by_token(p_hash text)
RETURNS TABLE (id uuid, tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT i.id, i.tenant_id FROM invitations i WHERE i.token_hash = p_hash
$$;

-- Scheduled jobs work tenant by tenant; these tell them which tenants to visit.
CREATE FUNCTION system_tenant_ids()
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id FROM tenants t ORDER BY t.created_at, t.id
$$;

CREATE FUNCTION outbox_pending_tenants()
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT o.tenant_id FROM outbox o WHERE o.published_at IS NULL
$$;
"""


def upgrade() -> None:
    op.execute(DDL)
    op.execute(
        "ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;"
        f"CREATE POLICY tenant_isolation ON tenants USING (id = {CURRENT_TENANT}) "
        f"WITH CHECK (id = {CURRENT_TENANT});"
    )
    for table in TENANT_TABLES:
        op.execute(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;"
            f"CREATE POLICY tenant_isolation ON {table} USING (tenant_id = {CURRENT_TENANT}) "
            f"WITH CHECK (tenant_id = {CURRENT_TENANT});"
        )
    op.execute(
        "GRANT USAGE ON SCHEMA public TO strategist_app;"
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO strategist_app;"
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO strategist_app;"
        "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO strategist_app;"
        "REVOKE ALL ON alembic_version FROM strategist_app;"
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS outbox_pending_tenants, system_tenant_ids, auth_invitation_by_token,"
        " auth_refresh_token, auth_api_key_by_prefix, auth_user_by_email;"
    )
    for table in (*reversed(TENANT_TABLES), "tenants"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
