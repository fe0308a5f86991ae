"""Indexes for the owner's card list: a page in index order by activity, balance or name.

Revision ID: 5c1d2e3f4a5b
Revises: e917e5aafcdf
Create Date: 2026-11-21 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '5c1d2e3f4a5b'
down_revision = 'e917e5aafcdf'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite sorts NULLs last in a descending order already, and refuses the clause.
    nulls_last = "" if op.get_bind().dialect.name == "sqlite" else " NULLS LAST"
    op.create_index("ix_loyalty_cards_merchant_activity", "loyalty_cards",
                    ["merchant_id", sa.text("last_activity_at DESC" + nulls_last), sa.text("id DESC")])
    op.create_index("ix_loyalty_cards_merchant_points", "loyalty_cards",
                    ["merchant_id", sa.text("points_balance DESC"), sa.text("id DESC")])
    op.create_index("ix_loyalty_cards_merchant_stamps", "loyalty_cards",
                    ["merchant_id", sa.text("stamp_count DESC"), sa.text("id DESC")])
    op.create_index("ix_customers_merchant_name", "customers", ["merchant_id", "name", "id"])


def downgrade():
    op.drop_index("ix_customers_merchant_name", table_name="customers")
    op.drop_index("ix_loyalty_cards_merchant_stamps", table_name="loyalty_cards")
    op.drop_index("ix_loyalty_cards_merchant_points", table_name="loyalty_cards")
    op.drop_index("ix_loyalty_cards_merchant_activity", table_name="loyalty_cards")
