"""Offers-by-email consent and unsubscribes, and the win-back email and bonus

Revision ID: 27b1b2c3d4e8
Revises: 27a1b2c3d4e7
Create Date: 2026-12-07 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27b1b2c3d4e8'
down_revision = '27a1b2c3d4e7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('marketing_consent_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('marketing_unsubscribed_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('marketing_consent_source', sa.String(length=16),
                                      nullable=True))
    with op.batch_alter_table('loyalty_cards') as batch_op:
        batch_op.add_column(sa.Column('winback_sent_for', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('winback_bonus_until', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_index('ix_loyalty_cards_winback_bonus_until', 'loyalty_cards',
                    ['program_id', 'winback_bonus_until'], unique=False,
                    postgresql_where=sa.text('winback_bonus_until IS NOT NULL'),
                    sqlite_where=sa.text('winback_bonus_until IS NOT NULL'))
    with op.batch_alter_table('loyalty_programs') as batch_op:
        batch_op.add_column(sa.Column('winback_enabled', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('winback_inactive_days', sa.Integer(), server_default='60',
                                      nullable=False))
        batch_op.add_column(sa.Column('winback_bonus_points', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('winback_bonus_stamps', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('winback_bonus_days', sa.Integer(), server_default='30',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('loyalty_programs') as batch_op:
        for name in ('winback_bonus_days', 'winback_bonus_stamps', 'winback_bonus_points',
                     'winback_inactive_days', 'winback_enabled'):
            batch_op.drop_column(name)
    op.drop_index('ix_loyalty_cards_winback_bonus_until', table_name='loyalty_cards')
    with op.batch_alter_table('loyalty_cards') as batch_op:
        batch_op.drop_column('winback_bonus_until')
        batch_op.drop_column('winback_sent_for')
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('marketing_consent_source')
        batch_op.drop_column('marketing_unsubscribed_at')
        batch_op.drop_column('marketing_consent_at')
