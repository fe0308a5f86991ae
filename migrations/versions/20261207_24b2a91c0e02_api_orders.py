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


LEDGER_COLUMNS = (
    "id", "merchant_id", "card_id", "store_id", "staff_pin_id", "user_id", "transaction_type",
    "stamps_delta", "points_delta", "stamps_balance_after", "points_balance_after",
    "related_transaction_id", "void_shortfall", "purchase_amount_cents", "order_reference",
    "idempotency_key", "reward_id", "reward_description", "ip_address", "user_agent",
    "transaction_at", "created_at",
)


def _sqlite_update_trigger(columns):
    changed = " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in columns)
    return [
        "DROP TRIGGER IF EXISTS loyalty_transactions_no_update",
        f"""
        CREATE TRIGGER loyalty_transactions_no_update BEFORE UPDATE ON loyalty_transactions
        WHEN NEW.notes IS NOT NULL OR {changed}
        BEGIN SELECT RAISE(ABORT, 'loyalty_transactions is append-only (UPDATE refused)'); END
        """,
    ]


def _create_api_orders():
    op.create_table(
        'api_orders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('order_reference', sa.String(length=64), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('points_transaction_id', sa.Integer(), nullable=True),
        sa.Column('stamps_transaction_id', sa.Integer(), nullable=True),
        sa.Column('visit_stamp', sa.Boolean(), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'],
                                name=op.f('fk_api_orders_api_key_id_api_keys')),
        sa.ForeignKeyConstraint(['card_id'], ['loyalty_cards.id'],
                                name=op.f('fk_api_orders_card_id_loyalty_cards')),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_api_orders_merchant_id_merchants')),
        sa.ForeignKeyConstraint(['points_transaction_id'], ['loyalty_transactions.id'],
                                name=op.f('fk_api_orders_points_transaction_id_loyalty_transactions')),
        sa.ForeignKeyConstraint(['stamps_transaction_id'], ['loyalty_transactions.id'],
                                name=op.f('fk_api_orders_stamps_transaction_id_loyalty_transactions')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_api_orders_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_orders')),
    )
    op.create_index('uq_api_orders_merchant_reference', 'api_orders',
                    ['merchant_id', 'order_reference'], unique=True)
    op.create_index(op.f('ix_api_orders_card_id'), 'api_orders', ['card_id'], unique=False)


def upgrade():
    # In place on both databases (a batch would copy the table on SQLite and drop its
    # append-only triggers). PostgreSQL's trigger compares whole rows: the new column is
    # covered; SQLite's lists the columns, so it is written again with this one.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE loyalty_transactions ADD COLUMN api_key_id INTEGER "
                   "CONSTRAINT fk_loyalty_transactions_api_key_id_api_keys "
                   "REFERENCES api_keys (id)")
        for statement in _sqlite_update_trigger((*LEDGER_COLUMNS, "api_key_id")):
            op.execute(statement)
    else:
        op.add_column('loyalty_transactions', sa.Column('api_key_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_loyalty_transactions_api_key_id_api_keys'),
                              'loyalty_transactions', 'api_keys', ['api_key_id'], ['id'])
    _create_api_orders()


def downgrade():
    op.drop_table('api_orders')
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_update_trigger(LEDGER_COLUMNS):
            op.execute(statement)
        op.execute("ALTER TABLE loyalty_transactions DROP COLUMN api_key_id")
    else:
        op.drop_constraint(op.f('fk_loyalty_transactions_api_key_id_api_keys'),
                           'loyalty_transactions', type_='foreignkey')
        op.drop_column('loyalty_transactions', 'api_key_id')
