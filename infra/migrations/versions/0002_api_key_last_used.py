"""auth_api_key_by_prefix also returns last_used_at, so the authorizer writes it at most once a minute instead of
on every request (one row write per authorized call was most of an API-key request's database time).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
DROP FUNCTION auth_api_key_by_prefix(text);
CREATE FUNCTION auth_api_key_by_prefix(p_prefix text)
RETURNS TABLE (id uuid, tenant_id uuid, key_hash varchar, role varchar, client_ids uuid[], scopes varchar[],
               expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id, k.key_hash, k.role, k.client_ids, k.scopes, k.expires_at, k.revoked_at, k.last_used_at
  FROM api_keys k WHERE k.prefix = p_prefix
$$;
GRANT EXECUTE ON FUNCTION auth_api_key_by_prefix(text) TO strategist_app;
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP FUNCTION auth_api_key_by_prefix(text);
CREATE FUNCTION auth_api_key_by_prefix(p_prefix text)
RETURNS TABLE (id uuid, tenant_id uuid, key_hash varchar, role varchar, client_ids uuid[], scopes varchar[],
               expires_at timestamptz, revoked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.id, k.tenant_id, k.key_hash, k.role, k.client_ids, k.scopes, k.expires_at, k.revoked_at
  FROM api_keys k WHERE k.prefix = p_prefix
$$;
GRANT EXECUTE ON FUNCTION auth_api_key_by_prefix(text) TO strategist_app;
"""
    )
