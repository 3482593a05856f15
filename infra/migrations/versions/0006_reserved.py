"""Reserved revision: optimization recommendations, applied changes, automation rules (issue 6, optimize slice). Its tables are added by the slice that owns it; until then it changes nothing,
so the chain 0001..0010 is whole while the slices are built in parallel.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
