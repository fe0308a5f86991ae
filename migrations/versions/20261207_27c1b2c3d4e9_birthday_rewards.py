"""Birthdays (day and month) and the birthday bonus

Revision ID: 27c1b2c3d4e9
Revises: 27b1b2c3d4e8
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27c1b2c3d4e9'
down_revision = '27b1b2c3d4e8'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
