"""Reserved revision: assistant conversations and competitor analysis (issue 7, assistant slice). Its tables are added by the slice that owns it; until then it changes nothing,
so the chain 0001..0010 is whole while the slices are built in parallel.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
