"""Retention figures kept per merchant, scope and local day (computed once, read many times)

Revision ID: 27d1b2c3d4ea
Revises: 27c1b2c3d4e9
Create Date: 2026-12-07 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27d1b2c3d4ea'
down_revision = '27c1b2c3d4e9'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
