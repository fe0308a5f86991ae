"""The ledger by merchant and kind: statistics read the redemption and void rows alone.

Revision ID: 8f4a5b6c7d8e
Revises: 7e3f4a5b6c7d
Create Date: 2026-11-21 19:00:00

"""
from alembic import op

revision = '8f4a5b6c7d8e'
down_revision = '7e3f4a5b6c7d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_loyalty_transactions_merchant_type", "loyalty_transactions",
                    ["merchant_id", "transaction_type"])


def downgrade():
    op.drop_index("ix_loyalty_transactions_merchant_type", table_name="loyalty_transactions")
