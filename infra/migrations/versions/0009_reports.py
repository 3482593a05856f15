"""Reserved revision: reports and report schedules (issue 7, reports slice). Its tables are added by the slice that owns it; until then it changes nothing,
so the chain 0001..0010 is whole while the slices are built in parallel.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
