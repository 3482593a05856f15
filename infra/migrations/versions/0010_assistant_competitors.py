"""The assistant's conversations (per caller, per client; every answer with the tool calls and citations behind
it) and competitor analysis: uploaded auction-insights exports / Ad Library records / manual observations, and the
stored analyses built from them, and the client's own search impression share on campaign_metrics (issue 7,
assistant slice).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
TABLES = ("assistant_conversations", "assistant_messages", "competitor_data", "competitor_analysis")

DDL = """
CREATE TABLE assistant_conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  owner varchar(80) NOT NULL,
  title varchar(200) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_assistant_conversations_tenant_id ON assistant_conversations (tenant_id);
CREATE INDEX ix_assistant_conversations_owner ON assistant_conversations (tenant_id, owner, created_at);

CREATE TABLE assistant_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES assistant_conversations(id) ON DELETE CASCADE,
  role varchar(20) NOT NULL CHECK (role IN ('user', 'assistant')),
  content text NOT NULL,
  intent varchar(40),
  tool_calls jsonb NOT NULL DEFAULT '[]'::jsonb,
  citations jsonb NOT NULL DEFAULT '[]'::jsonb,
  writer jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_assistant_messages_tenant_id ON assistant_messages (tenant_id);
CREATE INDEX ix_assistant_messages_conversation ON assistant_messages (conversation_id, created_at);

CREATE TABLE competitor_data (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  kind varchar(30) NOT NULL CHECK (kind IN ('auction_insights', 'ad_library', 'manual')),
  filename varchar(255),
  platform varchar(20) NOT NULL,
  period_start date,
  period_end date,
  rows jsonb NOT NULL,
  row_count integer NOT NULL,
  notes jsonb NOT NULL DEFAULT '[]'::jsonb,
  sha256 varchar(64) NOT NULL,
  created_by varchar(80) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_competitor_data_tenant_id ON competitor_data (tenant_id);
CREATE INDEX ix_competitor_data_client ON competitor_data (tenant_id, client_id, created_at);
CREATE UNIQUE INDEX uq_competitor_data_sha ON competitor_data (tenant_id, client_id, kind, sha256);

CREATE TABLE competitor_analysis (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  client_id uuid NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  request jsonb NOT NULL,
  result jsonb NOT NULL,
  created_by varchar(80) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_competitor_analysis_tenant_id ON competitor_analysis (tenant_id);
CREATE INDEX ix_competitor_analysis_client ON competitor_analysis (tenant_id, client_id, created_at);

-- the client's own search impression share, as Google Ads reports it per Search campaign and day (fractions;
-- Google reports "< 10%" as 0.0999 and a loss over 90 % as 0.9001); NULL for other channels and platforms
ALTER TABLE campaign_metrics
  ADD COLUMN search_impression_share numeric(7, 6),
  ADD COLUMN search_rank_lost_impression_share numeric(7, 6),
  ADD COLUMN search_budget_lost_impression_share numeric(7, 6);
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
    op.execute(
        "ALTER TABLE campaign_metrics DROP COLUMN IF EXISTS search_impression_share, "
        "DROP COLUMN IF EXISTS search_rank_lost_impression_share, "
        "DROP COLUMN IF EXISTS search_budget_lost_impression_share"
    )
