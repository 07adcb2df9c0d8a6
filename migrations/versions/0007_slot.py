"""cards and limits (issue 13): members who get text instead of cards, and 明天再提醒 snoozes

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('card_fallback_users',
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('errcode', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('userid')
    )
    op.create_table('reminder_snoozes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=False),
    sa.Column('period_key', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'userid', 'period_key', 'stage', name='uq_snooze_once')
    )
    with op.batch_alter_table('reminder_snoozes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_snoozes_until'), ['until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminder_snoozes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_snoozes_until'))
    op.drop_table('reminder_snoozes')
    op.drop_table('card_fallback_users')
