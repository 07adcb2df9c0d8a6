"""performance and operations (issues 14, 15)

Revision ID: 0008
Revises: 0007

A slot in the chain, kept empty until that work needs schema changes (each piece of work owns one
slot, so parallel work never makes two heads).
"""

from __future__ import annotations

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
