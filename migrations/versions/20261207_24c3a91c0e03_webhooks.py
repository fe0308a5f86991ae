"""Webhook endpoints and their deliveries

Revision ID: 24c3a91c0e03
Revises: 24b2a91c0e02
Create Date: 2026-12-07 14:40:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '24c3a91c0e03'
down_revision = '24b2a91c0e02'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
