"""The terminal's hot path: a card keeps its stamps of the merchant's current day (the daily
cap needs no count over the ledger), and merchants carry a version that any change to their
program, rewards or settings bumps (workers keep copies of those while it is unchanged).

Existing cards start with no day: their first stamp counts the day from the ledger once.
Plain ADD COLUMNs (no batch copy): SQLite's table copy would drop the expression indexes.

Revision ID: cddb34bcecfe
Revises: 061fd01c2d72
Create Date: 2026-11-21 19:57:16.726906

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'cddb34bcecfe'
down_revision = '061fd01c2d72'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("loyalty_cards", sa.Column("stamps_today", sa.Integer(), server_default="0",
                                             nullable=False))
    op.add_column("loyalty_cards", sa.Column("stamps_day", sa.Date(), nullable=True))
    op.add_column("merchants", sa.Column("cache_version", sa.Integer(), server_default="0",
                                         nullable=False))


def downgrade():
    op.drop_column("merchants", "cache_version")
    op.drop_column("loyalty_cards", "stamps_day")
    op.drop_column("loyalty_cards", "stamps_today")
