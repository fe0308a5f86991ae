"""The ledger and the audit trail stay append-only in the database itself: the one change
either accepts is an erasure blanking words (a ledger row's note; an audit entry's label, or
a pair of values blanked whole). Every other column of every row is refused, column by column
(a column added later without the triggers knowing it fails here)."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DatabaseError

from loyalty.extensions import db
from loyalty.models import AuditEntry, LoyaltyTransaction
from loyalty.services.audit import Actor
from loyalty.services.engine.adjustments import adjust_points
from tests import factories

LEDGER = LoyaltyTransaction.__table__
TRAIL = AuditEntry.__table__


def _other_value(column, current):
    """A value of ``column``'s type that differs from ``current``."""
    kind = getattr(column.type, "impl", column.type).python_type
    if kind is datetime:
        return datetime(2001, 2, 3, tzinfo=UTC)
    if kind is bool:  # the offline flag
        return not current
    if kind is int:
        return (current or 0) + 1000
    if kind is str or issubclass(kind, str):  # text, and the kinds of transaction
        return "points_voided" if current == "points_adjusted" else "points_adjusted"
    raise AssertionError(f"no other value for {column.name} ({kind})")


@pytest.fixture
def adjusted(merchant):
    """A card adjusted by its owner: a ledger row with a note, an audit entry with a reason."""
    factories.points_program(merchant.merchant)
    card = factories.card(merchant.merchant, "Nina Note", email="nina@example.com")
    actor = Actor(user_id=merchant.owner.id, ip_address="10.1.2.3", merchant_id=merchant.id)
    adjust_points(card, 5, reason="Nina's birthday", user=merchant.owner, actor=actor)
    db.session.commit()
    row = db.session.scalar(select(LoyaltyTransaction).where(LoyaltyTransaction.notes.is_not(None)))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "card.adjust"))
    return row.id, entry.id


def _refused(statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(statement)
    db.session.rollback()


def test_a_ledger_note_can_be_blanked_and_nothing_else(adjusted):
    row_id, _entry_id = adjusted
    _refused(update(LEDGER).where(LEDGER.c.id == row_id).values(notes="rewritten"))
    db.session.execute(update(LEDGER).where(LEDGER.c.id == row_id).values(notes=None))
    db.session.commit()
    assert db.session.scalar(select(LEDGER.c.notes).where(LEDGER.c.id == row_id)) is None
    _refused(update(LEDGER).where(LEDGER.c.id == row_id).values(notes="put back"))


@pytest.mark.parametrize("column", [c for c in LEDGER.columns if c.name != "notes"],
                         ids=lambda column: column.name)
def test_every_other_ledger_column_is_refused_even_with_the_note_blanked(adjusted, column):
    row_id, _entry_id = adjusted
    current = db.session.scalar(select(column).where(LEDGER.c.id == row_id))
    _refused(update(LEDGER).where(LEDGER.c.id == row_id)
             .values({column.name: _other_value(column, current), "notes": None}))


def test_an_audit_entry_can_lose_its_label_and_whole_pairs_of_values(adjusted):
    _row_id, entry_id = adjusted
    changes = db.session.scalar(select(TRAIL.c.changes).where(TRAIL.c.id == entry_id))
    assert changes["reason"] == [None, "Nina's birthday"]
    where = TRAIL.c.id == entry_id
    for rewritten in ({**changes, "reason": [None, "Someone else's birthday"]},
                      {**changes, "reason": [None, None], "points_balance": [0, 0]},
                      {**changes, "reason": ["Nina's birthday", None]},
                      {"points_balance": changes["points_balance"]},  # a pair dropped
                      {**changes, "note": [None, None]}):  # a pair added
        _refused(update(TRAIL).where(where).values(changes=rewritten))
    _refused(update(TRAIL).where(where).values(target_label="0000-0000-0000"))
    blanked = {**changes, "reason": [None, None]}
    db.session.execute(update(TRAIL).where(where).values(changes=blanked, target_label=None))
    db.session.commit()
    assert db.session.execute(select(TRAIL.c.target_label, TRAIL.c.changes).where(where)).one() \
        == (None, blanked)


@pytest.mark.parametrize("column", [c for c in TRAIL.columns
                                    if c.name not in ("target_label", "changes")],
                         ids=lambda column: column.name)
def test_every_other_audit_column_is_refused(adjusted, column):
    _row_id, entry_id = adjusted
    current = db.session.scalar(select(column).where(TRAIL.c.id == entry_id))
    _refused(update(TRAIL).where(TRAIL.c.id == entry_id)
             .values({column.name: _other_value(column, current), "target_label": None}))

