"""Reserved revision: alert rules, alerts, pacing targets (issue 6, alerts slice). Its tables are added by the slice that owns it; until then it changes nothing,
so the chain 0001..0010 is whole while the slices are built in parallel.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
