"""Happy hours: scheduled multipliers, and the base amount and multiplier on the ledger row

Revision ID: 27a1b2c3d4e7
Revises: 26a1b2c3d4e6
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27a1b2c3d4e7'
down_revision = '26a1b2c3d4e6'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
