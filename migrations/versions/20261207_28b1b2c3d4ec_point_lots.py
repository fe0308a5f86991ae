"""Points that expire by the month they were earned: lots, consumed oldest first

Revision ID: 28b1b2c3d4ec
Revises: 28a1b2c3d4eb
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '28b1b2c3d4ec'
down_revision = '28a1b2c3d4eb'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
