"""reports as typed (issue 10)

Revision ID: 0004
Revises: 0003

A slot in the chain, kept empty until that work needs schema changes (each piece of work owns one
slot, so parallel work never makes two heads).
"""

from __future__ import annotations

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
