"""plan files (issue 8): task status (proposed / active / inactive) and deadline day

Revision ID: 0002
Revises: 0001

Tasks read from a plan are proposals until the office approves them; `status` records that
(`active` stays the flag everything else filters on: true only for status 'active'). `deadline_day`
is the day of the period's last month by which its count is due (null: the period's end).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='active'))
        batch_op.add_column(sa.Column('deadline_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source_file', sa.String(length=255), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('source_file')
        batch_op.drop_column('deadline_day')
        batch_op.drop_column('status')
