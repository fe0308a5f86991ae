"""Points that expire by the month they were earned: lots, consumed oldest first

Revision ID: 28b1b2c3d4ec
Revises: 28a1b2c3d4eb
Create Date: 2026-12-07 22:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '28b1b2c3d4ec'
down_revision = '28a1b2c3d4eb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.add_column(sa.Column('points_expiry_rule', sa.String(length=20),
                                      server_default='inactivity', nullable=False))
        batch_op.add_column(sa.Column('points_expiry_months', sa.Integer(), nullable=True))
    op.create_table(
        'point_lots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('earned_month', sa.Date(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('points_earned', sa.Integer(), nullable=False),
        sa.Column('points_left', sa.Integer(), nullable=False),
        sa.Column('source_transaction_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('points_left >= 0', name='ck_point_lots_left_not_negative'),
        sa.ForeignKeyConstraint(['card_id'], ['loyalty_cards.id']),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id']),
        sa.ForeignKeyConstraint(['source_transaction_id'], ['loyalty_transactions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('card_id', 'earned_month', name='uq_point_lots_card_month'),
    )
    op.create_index('ix_point_lots_card_id', 'point_lots', ['card_id'])
    op.create_index('ix_point_lots_due', 'point_lots', ['merchant_id', 'expires_at'],
                    postgresql_where=sa.text('points_left > 0'),
                    sqlite_where=sa.text('points_left > 0'))
    op.create_table(
        'point_lot_moves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lot_id', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['lot_id'], ['point_lots.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['transaction_id'], ['loyalty_transactions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_point_lot_moves_lot_id', 'point_lot_moves', ['lot_id'])
    op.create_index('ix_point_lot_moves_transaction_id', 'point_lot_moves', ['transaction_id'])


def downgrade():
    op.drop_table('point_lot_moves')
    op.drop_index('ix_point_lots_due', table_name='point_lots')
    op.drop_table('point_lots')
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.drop_column('points_expiry_months')
        batch_op.drop_column('points_expiry_rule')
