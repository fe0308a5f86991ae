"""One active PIN per name at a store; one live membership per person, role and store.

Revision ID: 6d2e3f4a5b6c
Revises: 28414ef5bb0e
Create Date: 2026-11-21 18:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '6d2e3f4a5b6c'
down_revision = '28414ef5bb0e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "uq_staff_pins_store_name_active", "staff_pins",
        ["store_id", sa.text("lower(staff_name)")], unique=True,
        postgresql_where=sa.text("is_active"), sqlite_where=sa.text("is_active = 1"))
    op.create_index(
        "uq_memberships_live", "memberships",
        ["user_id", "merchant_id", "role", sa.text("coalesce(store_id, 0)")], unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"))


def downgrade():
    op.drop_index("uq_memberships_live", table_name="memberships")
    op.drop_index("uq_staff_pins_store_name_active", table_name="staff_pins")
