"""Indexes the platform-scale benchmark asked for (bench/platform_scale.py, 20 million rows)

- ``ix_loyalty_cards_program_figures``: every live card's program with the figures the
  admin dashboard and the programs list sum per program (active, enrolled, last activity,
  balances, lifetime counters), so both read an index-only scan of it, not the cards' rows
  (PostgreSQL: INCLUDE columns; SQLite: the program alone, which it does not need).
- ``ix_loyalty_transactions_refers_time``: the few ledger rows that refer to another (voids,
  undone rewards, lapsed win-back bonuses), by merchant and time: the statistics' daily
  figures join only those to the rows they refer to.

Revision ID: 29a1b2c3d4ed
Revises: 28b1b2c3d4ec
Create Date: 2026-12-08 00:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '29a1b2c3d4ed'
down_revision = '28b1b2c3d4ec'
branch_labels = None
depends_on = None

PROGRAM_FIGURES = ["is_active", "created_at", "last_activity_at", "points_balance",
                   "stamp_count", "points_earned_total", "points_voided_total",
                   "points_redeemed_total"]


def upgrade():
    op.create_index("ix_loyalty_cards_program_figures", "loyalty_cards", ["program_id"],
                    postgresql_include=PROGRAM_FIGURES,
                    postgresql_where=sa.text("deleted_at IS NULL"),
                    sqlite_where=sa.text("deleted_at IS NULL"))
    op.create_index("ix_loyalty_transactions_refers_time", "loyalty_transactions",
                    ["merchant_id", "transaction_at"],
                    postgresql_where=sa.text("related_transaction_id IS NOT NULL"),
                    sqlite_where=sa.text("related_transaction_id IS NOT NULL"))


def downgrade():
    op.drop_index("ix_loyalty_transactions_refers_time", table_name="loyalty_transactions")
    op.drop_index("ix_loyalty_cards_program_figures", table_name="loyalty_cards")
