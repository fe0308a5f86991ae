"""Points expiry: a partial index of each program's cards that still hold points, by last
activity, so the nightly run reads only due cards and a second run finds nothing at once.

Revision ID: 98de1cb4f142
Revises: cddb34bcecfe
Create Date: 2026-11-21 21:28:57.084702

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '98de1cb4f142'
down_revision = 'cddb34bcecfe'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_loyalty_cards_expiry_due", "loyalty_cards",
                    ["program_id", "last_activity_at"], unique=False,
                    postgresql_where=sa.text("points_balance > 0"),
                    sqlite_where=sa.text("points_balance > 0"))


def downgrade():
    op.drop_index("ix_loyalty_cards_expiry_due", table_name="loyalty_cards")
