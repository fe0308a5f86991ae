"""Retention figures kept per merchant, scope and local day (computed once, read many times)

Revision ID: 27d1b2c3d4ea
Revises: 27c1b2c3d4e9
Create Date: 2026-12-07 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27d1b2c3d4ea'
down_revision = '27c1b2c3d4e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'retention_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('merchant_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=400), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('min_visits', sa.Integer(), nullable=False),
        sa.Column('away_days', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'],
                                name=op.f('fk_retention_snapshots_merchant_id_merchants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_snapshots')),
        sa.UniqueConstraint('merchant_id', 'scope', 'day', 'timezone', 'min_visits', 'away_days',
                            name='uq_retention_snapshots_key'),
    )


def downgrade():
    op.drop_table('retention_snapshots')
