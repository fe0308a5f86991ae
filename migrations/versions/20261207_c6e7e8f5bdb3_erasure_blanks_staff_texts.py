"""A customer's erasure blanks what staff typed about them: the ledger and the audit trail stay
append-only, except that a ledger row's note may become empty, and an audit entry may lose its
label and have a pair of old and new values blanked whole (both null). Nothing else of either
ever changes; deletes are still refused.

Revision ID: c6e7e8f5bdb3
Revises: e1a2b3c4d5f6
Create Date: 2026-12-07 06:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c6e7e8f5bdb3'
down_revision = 'e1a2b3c4d5f6'
branch_labels = None
depends_on = None

# The columns as of this revision. SQLite compares them one by one: a migration that adds a
# column to either table adds it here too (tests/unit/test_erasure_guards.py fails otherwise).
LEDGER_COLUMNS = (
    "id", "merchant_id", "card_id", "store_id", "staff_pin_id", "user_id", "transaction_type",
    "stamps_delta", "points_delta", "stamps_balance_after", "points_balance_after",
    "related_transaction_id", "void_shortfall", "purchase_amount_cents", "order_reference",
    "idempotency_key", "reward_id", "reward_description", "ip_address", "user_agent",
    "transaction_at", "created_at",
)
AUDIT_COLUMNS = ("id", "merchant_id", "actor_id", "action", "target_type", "target_id",
                 "ip_address", "created_at")


def _any_changed(columns):
    return " OR ".join(f"NEW.{name} IS NOT OLD.{name}" for name in columns)


POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION loyalty_transactions_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.notes IS NULL
           AND (to_jsonb(NEW) - 'notes') = (to_jsonb(OLD) - 'notes') THEN
            RETURN NEW;  -- an erasure blanks the note; nothing else changes
        END IF;
        RAISE EXCEPTION 'loyalty_transactions is append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND (to_jsonb(NEW) - 'target_label' - 'changes')
               = (to_jsonb(OLD) - 'target_label' - 'changes')
           AND (NEW.target_label IS NULL OR NEW.target_label = OLD.target_label)
           AND NOT EXISTS (
               SELECT 1 FROM jsonb_each(OLD.changes::jsonb) AS old_pair
               WHERE (NEW.changes::jsonb -> old_pair.key) IS DISTINCT FROM old_pair.value
                 AND (NEW.changes::jsonb -> old_pair.key) IS DISTINCT FROM '[null, null]'::jsonb)
           AND NOT EXISTS (
               SELECT 1 FROM jsonb_object_keys(NEW.changes::jsonb) AS new_key
               WHERE NOT OLD.changes::jsonb ? new_key) THEN
            RETURN NEW;  -- an erasure blanks the label or whole pairs of values
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
]
SQLITE = [
    "DROP TRIGGER IF EXISTS loyalty_transactions_no_update",
    f"""
    CREATE TRIGGER loyalty_transactions_no_update BEFORE UPDATE ON loyalty_transactions
    WHEN NEW.notes IS NOT NULL OR {_any_changed(LEDGER_COLUMNS)}
    BEGIN SELECT RAISE(ABORT, 'loyalty_transactions is append-only (UPDATE refused)'); END
    """,
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    f"""
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    WHEN {_any_changed(AUDIT_COLUMNS)}
      OR (NEW.target_label IS NOT NULL AND NEW.target_label IS NOT OLD.target_label)
      OR EXISTS (
          SELECT 1 FROM json_each(OLD.changes) AS old_pair
          WHERE NOT EXISTS (
              SELECT 1 FROM json_each(NEW.changes) AS new_pair
              WHERE new_pair.key = old_pair.key
                AND (new_pair.value IS old_pair.value OR new_pair.value IS '[null,null]')))
      OR EXISTS (
          SELECT 1 FROM json_each(NEW.changes) AS new_pair
          WHERE NOT EXISTS (SELECT 1 FROM json_each(OLD.changes) AS old_pair
                            WHERE old_pair.key = new_pair.key))
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE refused)'); END
    """,
]

# As the "loyalty engine" and "audit trail" revisions installed them.
POSTGRESQL_BEFORE = [
    """
    CREATE OR REPLACE FUNCTION loyalty_transactions_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'loyalty_transactions is append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
]
SQLITE_BEFORE = [
    "DROP TRIGGER IF EXISTS loyalty_transactions_no_update",
    """
    CREATE TRIGGER loyalty_transactions_no_update BEFORE UPDATE ON loyalty_transactions
    BEGIN SELECT RAISE(ABORT, 'loyalty_transactions is append-only (UPDATE refused)'); END
    """,
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only (UPDATE refused)'); END
    """,
]


def upgrade():
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    statements = {"postgresql": POSTGRESQL_BEFORE, "sqlite": SQLITE_BEFORE}
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)
