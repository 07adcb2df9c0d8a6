"""reports as typed (issue 10)

Revision ID: 0004
Revises: 0003

Reports keep the count's original wording (participants_text), a short summary beside the full
message (raw_text), and when they were withdrawn (withdrawn_at), so 恢复 works within a day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("participants_text", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("summary")
        batch_op.drop_column("participants_text")
