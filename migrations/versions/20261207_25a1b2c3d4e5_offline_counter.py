"""The counter without connection: offline ledger rows and the program's offline limits

Revision ID: 25a1b2c3d4e5
Revises: 24c3a91c0e03
Create Date: 2026-12-07 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '25a1b2c3d4e5'
down_revision = '24c3a91c0e03'
branch_labels = None
depends_on = None


LEDGER_COLUMNS = (
    "id", "merchant_id", "card_id", "store_id", "staff_pin_id", "user_id", "transaction_type",
    "stamps_delta", "points_delta", "stamps_balance_after", "points_balance_after",
    "related_transaction_id", "void_shortfall", "purchase_amount_cents", "order_reference",
    "idempotency_key", "reward_id", "reward_description", "ip_address", "user_agent",
    "transaction_at", "created_at", "api_key_id",
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


def upgrade():
    # In place on both databases (a batch would copy the ledger on SQLite and drop its
    # append-only triggers); SQLite's update trigger lists the columns, so it is written again.
    op.add_column('loyalty_transactions',
                  sa.Column('offline', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('loyalty_transactions',
                  sa.Column('counter_at', sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_update_trigger((*LEDGER_COLUMNS, "offline", "counter_at")):
            op.execute(statement)
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.add_column(sa.Column('offline_enabled', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('offline_max_actions', sa.Integer(), server_default='50',
                                      nullable=False))
        batch_op.add_column(sa.Column('offline_max_points', sa.Integer(), server_default='500',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.drop_column('offline_max_points')
        batch_op.drop_column('offline_max_actions')
        batch_op.drop_column('offline_enabled')
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_update_trigger(LEDGER_COLUMNS):
            op.execute(statement)
    op.drop_column('loyalty_transactions', 'counter_at')
    op.drop_column('loyalty_transactions', 'offline')
