"""Offers-by-email consent and unsubscribes, and the win-back email and bonus

Revision ID: 27b1b2c3d4e8
Revises: 27a1b2c3d4e7
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27b1b2c3d4e8'
down_revision = '27a1b2c3d4e7'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
