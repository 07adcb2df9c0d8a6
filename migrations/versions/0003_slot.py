"""answers learning store (issue 9): answer_links, question -> clause links and "not in our plans"

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'answer_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=255), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('doc', sa.String(length=255), nullable=False),
        sa.Column('clause_text', sa.Text(), nullable=False),
        sa.Column('clause_key', sa.String(length=64), nullable=False),
        sa.Column('weight', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('question_key', 'verdict', 'clause_key', name='uq_answer_links'),
    )
    op.create_index(op.f('ix_answer_links_question_key'), 'answer_links', ['question_key'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_answer_links_question_key'), table_name='answer_links')
    op.drop_table('answer_links')
