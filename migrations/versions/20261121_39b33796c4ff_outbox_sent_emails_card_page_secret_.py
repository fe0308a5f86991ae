"""The outbox (work a change asks for, written in its transaction) and the emails sent; each
card gets the secret of its customer's own card link, and remembers which period of
inactivity its customer was warned about; programs say how many days before expiry to warn.

Plain ADD COLUMNs and indexes (no batch copy): SQLite's table copy would drop the expression
indexes. Existing cards get their secret here.

Revision ID: 39b33796c4ff
Revises: 98de1cb4f142
Create Date: 2026-11-21 22:23:48.758685

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '39b33796c4ff'
down_revision = '98de1cb4f142'
branch_labels = None
depends_on = None

OPEN = sa.text("delivered_at IS NULL AND failed_at IS NULL")


def upgrade():
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
                                name=op.f("fk_outbox_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_merchant_id"), "outbox", ["merchant_id"], unique=False)
    op.create_index("ix_outbox_open", "outbox", ["id"], unique=False,
                    postgresql_where=OPEN, sqlite_where=OPEN)

    op.create_table(
        "sent_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("transport", sa.String(length=10), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"],
                                name=op.f("fk_sent_emails_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"],
                                name=op.f("fk_sent_emails_outbox_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_emails")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_sent_emails_outbox_id")),
    )
    op.create_index(op.f("ix_sent_emails_merchant_id"), "sent_emails", ["merchant_id"],
                    unique=False)

    # NOT NULL needs a default for the rows already there; each gets its own secret below.
    op.add_column("loyalty_cards", sa.Column("page_secret", sa.String(length=64),
                                             server_default="", nullable=False))
    _give_existing_cards_a_secret()
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("loyalty_cards", "page_secret", server_default=None)
    op.create_index(op.f("ix_loyalty_cards_page_secret"), "loyalty_cards", ["page_secret"],
                    unique=True)
    op.add_column("loyalty_cards", sa.Column("expiry_warned_for", sa.DateTime(timezone=True),
                                             nullable=True))
    op.add_column("loyalty_programs", sa.Column("expiry_warning_days", sa.Integer(),
                                                server_default="14", nullable=False))


def _give_existing_cards_a_secret():
    connection = op.get_bind()
    cards = sa.table("loyalty_cards", sa.column("id", sa.Integer),
                     sa.column("page_secret", sa.String))
    ids = connection.execute(sa.select(cards.c.id)).scalars().all()
    update = sa.update(cards).where(cards.c.id == sa.bindparam("card_id")).values(
        page_secret=sa.bindparam("secret"))
    for start in range(0, len(ids), 5000):
        connection.execute(update, [{"card_id": card_id, "secret": secrets.token_urlsafe(32)}
                                    for card_id in ids[start:start + 5000]])


def downgrade():
    op.drop_column("loyalty_programs", "expiry_warning_days")
    op.drop_column("loyalty_cards", "expiry_warned_for")
    op.drop_index(op.f("ix_loyalty_cards_page_secret"), table_name="loyalty_cards")
    op.drop_column("loyalty_cards", "page_secret")
    op.drop_index(op.f("ix_sent_emails_merchant_id"), table_name="sent_emails")
    op.drop_table("sent_emails")
    op.drop_index("ix_outbox_open", table_name="outbox")
    op.drop_index(op.f("ix_outbox_merchant_id"), table_name="outbox")
    op.drop_table("outbox")
