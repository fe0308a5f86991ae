"""Card handoffs: a one-time, short-lived link shown as a QR code at the counter that opens a
card's page on the customer's phone

Revision ID: f2b4c6d8e0a1
Revises: c6e7e8f5bdb3
Create Date: 2026-12-07 11:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2b4c6d8e0a1'
down_revision = 'c6e7e8f5bdb3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'card_handoffs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['card_id'], ['loyalty_cards.id'],
                                name=op.f('fk_card_handoffs_card_id_loyalty_cards')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_handoffs')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_card_handoffs_token_hash')),
    )
    with op.batch_alter_table('card_handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_handoffs_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_handoffs_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('card_handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_handoffs_expires_at'))
        batch_op.drop_index(batch_op.f('ix_card_handoffs_card_id'))
    op.drop_table('card_handoffs')
