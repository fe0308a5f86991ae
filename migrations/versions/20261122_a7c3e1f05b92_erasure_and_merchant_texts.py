"""Customers' erasure time; merchant texts per language on programs and rewards

Revision ID: a7c3e1f05b92
Revises: d4f5cad9d868
Create Date: 2026-11-22 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e1f05b92'
down_revision = 'd4f5cad9d868'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('customers', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('loyalty_programs', sa.Column('translations', sa.JSON(), server_default='{}',
                                                nullable=False))
    op.add_column('rewards', sa.Column('translations', sa.JSON(), server_default='{}',
                                       nullable=False))


def downgrade():
    op.drop_column('rewards', 'translations')
    op.drop_column('loyalty_programs', 'translations')
    op.drop_column('customers', 'erased_at')
