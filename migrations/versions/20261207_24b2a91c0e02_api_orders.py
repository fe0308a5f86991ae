"""Orders the API credited (order reference, amount, refunds)

Revision ID: 24b2a91c0e02
Revises: 24a1a91c0e01
Create Date: 2026-12-07 14:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '24b2a91c0e02'
down_revision = '24a1a91c0e01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
