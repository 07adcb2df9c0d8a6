"""console (issue 12)

Revision ID: 0006
Revises: 0005

A slot in the chain, kept empty until that work needs schema changes (each piece of work owns one
slot, so parallel work never makes two heads).
"""

from __future__ import annotations

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
