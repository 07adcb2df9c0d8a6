"""hardening (issue 11): reminder batches, so a pass killed mid-send is resolved without double sending

Revision ID: 0005
Revises: 0004

reminder_batches keeps each send call's recipients and text; reminder_deliveries.batch_id ties a
row to the call that carries it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reminder_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('users', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('duplicate_interval_s', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminder_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_batches_status'), ['status'], unique=False)
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_reminder_deliveries_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_deliveries_batch_id'))
        batch_op.drop_column('batch_id')
    with op.batch_alter_table('reminder_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_batches_status'))
    op.drop_table('reminder_batches')
