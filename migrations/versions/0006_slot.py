"""console (issue 12): the admin audit log

Revision ID: 0006
Revises: 0005

Every action an office admin takes on the web console (sign-in, roster import, task edit, plan
upload, manual reminder, link of a question) is one row: who, what, on what, when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'admin_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=48), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_admin_audit_action', 'admin_audit', ['action'])
    op.create_index('ix_admin_audit_at', 'admin_audit', ['at'])


def downgrade() -> None:
    op.drop_index('ix_admin_audit_at', table_name='admin_audit')
    op.drop_index('ix_admin_audit_action', table_name='admin_audit')
    op.drop_table('admin_audit')
