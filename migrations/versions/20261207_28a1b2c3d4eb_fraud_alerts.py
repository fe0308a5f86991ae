"""Fraud alerts and each merchant's alert rules

Revision ID: 28a1b2c3d4eb
Revises: 27d1b2c3d4ea
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '28a1b2c3d4eb'
down_revision = '27d1b2c3d4ea'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fraud_rule_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_fraud_rule_settings_merchant_id_merchants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_rule_settings')),
        sa.UniqueConstraint('merchant_id', 'rule', name='uq_fraud_rule_settings_merchant_rule'),
    )
    op.create_table(
        'fraud_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('staff_pin_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('card_ids', sa.JSON(), nullable=False),
        sa.Column('transaction_ids', sa.JSON(), nullable=False),
        sa.Column('observed', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('dedupe_key', sa.String(length=160), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('review_note', sa.Text(), nullable=True),
        sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_fraud_alerts_merchant_id_merchants')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_fraud_alerts_store_id_stores')),
        sa.ForeignKeyConstraint(['staff_pin_id'], ['staff_pins.id'],
                                name=op.f('fk_fraud_alerts_staff_pin_id_staff_pins')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_fraud_alerts_user_id_users')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'],
                                name=op.f('fk_fraud_alerts_api_key_id_api_keys')),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                                name=op.f('fk_fraud_alerts_reviewed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_alerts')),
        sa.UniqueConstraint('merchant_id', 'dedupe_key', name='uq_fraud_alerts_dedupe_key'),
    )
    op.create_index(op.f('ix_fraud_alerts_merchant_id'), 'fraud_alerts', ['merchant_id'])
    op.create_index('ix_fraud_alerts_merchant_created', 'fraud_alerts',
                    ['merchant_id', 'created_at'])
    op.create_index('ix_fraud_alerts_merchant_reviewed', 'fraud_alerts',
                    ['merchant_id', 'reviewed_at'])
    # The fraud rules count a staff member's ledger rows in an hour, a day, a week (an index
    # only: the ledger's append-only triggers are untouched).
    op.create_index('ix_loyalty_transactions_staff_time', 'loyalty_transactions',
                    ['staff_pin_id', 'transaction_at'])
    # pin_burst counts a merchant's recent wrong PINs (outbox rows of kind fraud_pin).
    op.create_index('ix_outbox_merchant_kind_created', 'outbox',
                    ['merchant_id', 'kind', 'created_at'])


def downgrade():
    op.drop_index('ix_outbox_merchant_kind_created', table_name='outbox')
    op.drop_index('ix_loyalty_transactions_staff_time', table_name='loyalty_transactions')
    op.drop_index('ix_fraud_alerts_merchant_reviewed', table_name='fraud_alerts')
    op.drop_index('ix_fraud_alerts_merchant_created', table_name='fraud_alerts')
    op.drop_index(op.f('ix_fraud_alerts_merchant_id'), table_name='fraud_alerts')
    op.drop_table('fraud_alerts')
    op.drop_table('fraud_rule_settings')
