"""Manager PINs: a staff PIN marked can_unlock unlocks a locked PIN at the terminal.

Revision ID: 061fd01c2d72
Revises: 17040bd4c767
Create Date: 2026-11-21 19:49:28.800949

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '061fd01c2d72'
down_revision = '17040bd4c767'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no batch copy): SQLite's table copy would drop the expression index
    # on staff names.
    op.add_column("staff_pins", sa.Column("can_unlock", sa.Boolean(), server_default=sa.false(),
                                          nullable=False))


def downgrade():
    op.drop_column("staff_pins", "can_unlock")
