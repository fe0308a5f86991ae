"""Wallet passes: when a card's pass last changed, and the devices registered for its pushes

Revision ID: c5e8a1b2d3f4
Revises: b3d9f2a4c6e1
Create Date: 2026-11-22 01:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5e8a1b2d3f4'
down_revision = 'b3d9f2a4c6e1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('loyalty_cards', sa.Column('pass_updated_at', sa.DateTime(timezone=True),
                                             nullable=True))
    op.add_column('loyalty_cards', sa.Column('pass_synced_at', sa.DateTime(timezone=True),
                                             nullable=True))
    op.add_column('loyalty_cards', sa.Column('google_notified', sa.JSON(), server_default='[]',
                                             nullable=False))
    op.add_column('loyalty_programs', sa.Column('google_review_status', sa.String(length=20),
                                                nullable=True))
    op.create_table(
        'apple_registrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), sa.ForeignKey('loyalty_cards.id'), nullable=False),
        sa.Column('device_library_id', sa.String(length=64), nullable=False),
        sa.Column('push_token', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_apple_registrations_card_id', 'apple_registrations', ['card_id'])
    op.create_index('uq_apple_registrations_device_card', 'apple_registrations',
                    ['device_library_id', 'card_id'], unique=True)


def downgrade():
    op.drop_table('apple_registrations')
    op.drop_column('loyalty_programs', 'google_review_status')
    op.drop_column('loyalty_cards', 'google_notified')
    op.drop_column('loyalty_cards', 'pass_synced_at')
    op.drop_column('loyalty_cards', 'pass_updated_at')
