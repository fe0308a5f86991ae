"""The ledger summed per closed UTC day, merchant and kind (the platform dashboard), and the
ledger indexed by time alone (the days not yet summed)

Revision ID: b3d9f2a4c6e1
Revises: a7c3e1f05b92
Create Date: 2026-11-22 01:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d9f2a4c6e1'
down_revision = 'a7c3e1f05b92'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ledger_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('transaction_type', sa.String(length=20), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('stamps', sa.BigInteger(), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'merchant_id', 'transaction_type'),
    )
    # Built without blocking the counter's writes on a large ledger (PostgreSQL).
    with op.get_context().autocommit_block():
        op.create_index('ix_loyalty_transactions_time', 'loyalty_transactions',
                        ['transaction_at'], postgresql_concurrently=True)


def downgrade():
    op.drop_index('ix_loyalty_transactions_time', table_name='loyalty_transactions')
    op.drop_table('ledger_days')
