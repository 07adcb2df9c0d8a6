"""hardening (issue 11)

Revision ID: 0005
Revises: 0004

A slot in the chain, kept empty until that work needs schema changes (each piece of work owns one
slot, so parallel work never makes two heads).
"""

from __future__ import annotations

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
