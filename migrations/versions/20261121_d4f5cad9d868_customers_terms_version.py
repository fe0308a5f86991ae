"""Which terms a customer agreed to when they joined (a digest of the terms text shown).

Revision ID: d4f5cad9d868
Revises: 39b33796c4ff
Create Date: 2026-11-21

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4f5cad9d868'
down_revision = '39b33796c4ff'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("terms_version", sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column("customers", "terms_version")
