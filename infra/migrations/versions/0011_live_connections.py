"""Live updates (issue 8): the open WebSocket connections of the dashboard, one row per API Gateway connection id,
with who opened it (tenant, user, role, client scope) so the push function filters events server-side. Rows go on
$disconnect, when a push finds the connection gone (410) and, past their expiry (API Gateway closes a WebSocket
after two hours at the latest), in housekeeping.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("live_connections",)

DDL = """
CREATE TABLE live_connections (
  connection_id varchar(128) PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  api_key_id uuid,
  role varchar(20) NOT NULL,
  client_ids uuid[],
  endpoint varchar(500) NOT NULL,
  source_ip varchar(64),
  user_agent varchar(500),
  connected_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX ix_live_connections_tenant_id ON live_connections (tenant_id);
CREATE INDEX ix_live_connections_expires ON live_connections (expires_at);
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
