"""Fraud alerts and each merchant's alert rules

Revision ID: 28a1b2c3d4eb
Revises: 27d1b2c3d4ea
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '28a1b2c3d4eb'
down_revision = '27d1b2c3d4ea'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
