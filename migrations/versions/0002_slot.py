"""plan files (issue 8)

Revision ID: 0002
Revises: 0001

A slot in the chain, kept empty until that work needs schema changes (each piece of work owns one
slot, so parallel work never makes two heads).
"""

from __future__ import annotations

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
