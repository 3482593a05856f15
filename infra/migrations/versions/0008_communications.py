"""Reserved revision: client communications, templates, consent (issue 7, communications slice). Its tables are added by the slice that owns it; until then it changes nothing,
so the chain 0001..0010 is whole while the slices are built in parallel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
