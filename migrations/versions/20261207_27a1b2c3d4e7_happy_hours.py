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


# The ledger's columns before this revision; SQLite's update trigger lists them one by one (a
# later migration adding a ledger column lists these and its own).
LEDGER_COLUMNS = (
    "id", "merchant_id", "card_id", "store_id", "staff_pin_id", "user_id", "transaction_type",
    "stamps_delta", "points_delta", "stamps_balance_after", "points_balance_after",
    "related_transaction_id", "void_shortfall", "purchase_amount_cents", "order_reference",
    "idempotency_key", "reward_id", "reward_description", "ip_address", "user_agent",
    "transaction_at", "created_at", "api_key_id", "offline", "counter_at",
)
HAPPY_HOUR_COLUMNS = ("base_delta", "happy_hour_id")


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
    op.create_table(
        'happy_hours',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('factor', sa.Integer(), nullable=True),
        sa.Column('extra_stamps', sa.Integer(), nullable=True),
        sa.Column('weekdays', sa.Integer(), nullable=False),
        sa.Column('start_time', sa.Time(), nullable=False),
        sa.Column('end_time', sa.Time(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('all_stores', sa.Boolean(), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('deleted_by_id', sa.Integer(), nullable=True),
        sa.Column('deleted_batch', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('points', 'stamps')", name=op.f('ck_happy_hours_kind_known')),
        sa.CheckConstraint('factor IS NULL OR (factor >= 2 AND factor <= 10)',
                           name=op.f('ck_happy_hours_factor_range')),
        sa.CheckConstraint('extra_stamps IS NULL OR (extra_stamps >= 1 AND extra_stamps <= 10)',
                           name=op.f('ck_happy_hours_extra_stamps_range')),
        sa.CheckConstraint('weekdays >= 1 AND weekdays <= 127',
                           name=op.f('ck_happy_hours_weekdays_mask')),
        sa.CheckConstraint('end_time > start_time', name=op.f('ck_happy_hours_ends_after_start')),
        sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on',
                           name=op.f('ck_happy_hours_ends_on_after_start')),
        sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'],
                                name=op.f('fk_happy_hours_deleted_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_happy_hours_merchant_id_merchants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_happy_hours')),
    )
    op.create_index(op.f('ix_happy_hours_merchant_id'), 'happy_hours', ['merchant_id'],
                    unique=False)
    op.create_table(
        'happy_hour_stores',
        sa.Column('happy_hour_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['happy_hour_id'], ['happy_hours.id'],
                                name=op.f('fk_happy_hour_stores_happy_hour_id_happy_hours')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_happy_hour_stores_store_id_stores')),
        sa.PrimaryKeyConstraint('happy_hour_id', 'store_id', name=op.f('pk_happy_hour_stores')),
    )
    op.create_index(op.f('ix_happy_hour_stores_store_id'), 'happy_hour_stores', ['store_id'],
                    unique=False)
    # In place on both databases (a batch would copy the ledger on SQLite and drop its
    # append-only triggers); SQLite's update trigger lists the columns, so it is written again.
    op.add_column('loyalty_transactions', sa.Column('base_delta', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE loyalty_transactions ADD COLUMN happy_hour_id INTEGER "
                   "CONSTRAINT fk_loyalty_transactions_happy_hour_id_happy_hours "
                   "REFERENCES happy_hours (id)")
        for statement in _sqlite_update_trigger((*LEDGER_COLUMNS, *HAPPY_HOUR_COLUMNS)):
            op.execute(statement)
    else:
        op.add_column('loyalty_transactions',
                      sa.Column('happy_hour_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_loyalty_transactions_happy_hour_id_happy_hours'),
                              'loyalty_transactions', 'happy_hours', ['happy_hour_id'], ['id'])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_update_trigger(LEDGER_COLUMNS):
            op.execute(statement)
        op.execute("ALTER TABLE loyalty_transactions DROP COLUMN happy_hour_id")
    else:
        op.drop_constraint(op.f('fk_loyalty_transactions_happy_hour_id_happy_hours'),
                           'loyalty_transactions', type_='foreignkey')
        op.drop_column('loyalty_transactions', 'happy_hour_id')
    op.drop_column('loyalty_transactions', 'base_delta')
    op.drop_index(op.f('ix_happy_hour_stores_store_id'), table_name='happy_hour_stores')
    op.drop_table('happy_hour_stores')
    op.drop_index(op.f('ix_happy_hours_merchant_id'), table_name='happy_hours')
    op.drop_table('happy_hours')
