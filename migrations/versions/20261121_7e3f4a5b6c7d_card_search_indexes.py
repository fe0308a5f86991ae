"""Card search: trigram indexes (PostgreSQL) so that a part of a name, an email, a phone or a
card number finds its cards without reading them all. SQLite searches by scanning.

Revision ID: 7e3f4a5b6c7d
Revises: 6d2e3f4a5b6c
Create Date: 2026-11-21 18:45:00

"""
from alembic import op

revision = '7e3f4a5b6c7d'
down_revision = '6d2e3f4a5b6c'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customers_name_trgm": "customers USING gin (lower(name) gin_trgm_ops)",
    "ix_customers_email_trgm": "customers USING gin (email gin_trgm_ops)",
    "ix_customers_phone_trgm": "customers USING gin (replace(phone, '+', '') gin_trgm_ops)",
    "ix_loyalty_cards_number_trgm":
        "loyalty_cards USING gin (replace(card_number, '-', '') gin_trgm_ops)",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # a trusted extension since PG 13
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
