"""Column types and mixins shared by every aggregate, and the global soft-delete filter."""
import uuid
import weakref
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, event, func, select, text, union, update
from sqlalchemy.orm import Mapped, Session, mapped_column, with_loader_criteria
from sqlalchemy.types import TypeDecorator

from loyalty import clock
from loyalty.extensions import db


def utcnow():
    return clock.now()


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SoftDeleteMixin:
    """Rows are never removed, only marked; the ``do_orm_execute`` hook below hides them.

    ``deleted_batch`` ties together the rows one cascading delete marked, so that restoring
    the parent brings back exactly those rows and not ones deleted earlier on their own.
    Subclasses list the rows their deletion carries along in ``__soft_delete_cascade__``
    as ``(class name, foreign key attribute)`` pairs.
    """

    __soft_delete_cascade__: tuple[tuple[str, str], ...] = ()

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    deleted_batch: Mapped[str | None] = mapped_column(String(32))

    @property
    def is_deleted(self):
        return self.deleted_at is not None


LIVE_ROWS = "deleted_at IS NULL"
#: Primary keys are 32-bit integers; a larger id from a URL or a form cannot exist.
MAX_ID = 2**31 - 1


def unique_among(name, *columns, where=LIVE_ROWS):
    """A partial unique index (PostgreSQL and SQLite): unique only among rows matching ``where``,
    by default the live ones, so a soft-deleted email or code can be used again."""
    return Index(name, *columns, unique=True, postgresql_where=text(where), sqlite_where=text(where))


#: Built once: the option is immutable, and reusing it spares every SELECT rebuilding it.
_LIVE_ROWS_ONLY = with_loader_criteria(
    SoftDeleteMixin, lambda cls: cls.deleted_at.is_(None), include_aliases=True
)


#: statement -> the same statement showing live rows only. A statement built once (the hot
#: paths keep theirs) then keeps one live twin, whose cache key SQLAlchemy computes once
#: instead of on every execution (a tenth of a counter request's CPU before).
_LIVE_TWINS = weakref.WeakKeyDictionary()


def _live_rows_only(statement):
    twin = _LIVE_TWINS.get(statement)
    if twin is None:
        twin = _LIVE_TWINS[statement] = statement.options(_LIVE_ROWS_ONLY)
    return twin


@event.listens_for(Session, "do_orm_execute")
def _hide_soft_deleted(execute_state):
    if (
        execute_state.is_select
        and not execute_state.is_column_load
        and not execute_state.is_relationship_load
        and not execute_state.execution_options.get("include_deleted", False)
    ):
        execute_state.statement = _live_rows_only(execute_state.statement)


#: Indexes over sort expressions (DESC, NULLS LAST): database reflection cannot describe them
#: faithfully, so autogenerate leaves them to their hand-written migration.
EXPRESSION_INDEX = {"expression_index": True}


#: PostgreSQL-only search indexes (trigram GIN), created by their own migration.
DATABASE_ONLY_INDEXES = frozenset({
    "ix_customers_name_trgm", "ix_customers_search_name_trgm", "ix_customers_email_trgm",
    "ix_customers_phone_trgm",
    "ix_loyalty_cards_number_trgm",
})


def include_in_autogenerate(metadata):
    """An ``include_object`` hook for Alembic that skips the expression indexes and the
    PostgreSQL-only ones."""
    names = {index.name for table in metadata.tables.values() for index in table.indexes
             if index.info.get("expression_index")} | DATABASE_ONLY_INDEXES

    def include(obj, name, type_, reflected, compare_to):
        return not (type_ == "index" and name in names)

    return include


def append_only(cls, error, message):
    """Refuse, at flush, any change to or deletion of a ``cls`` row (the database refuses too,
    with triggers the migrations install)."""

    @event.listens_for(Session, "before_flush")
    def _refuse_changes(session, flush_context, instances):
        for row in list(session.dirty) + list(session.deleted):
            if isinstance(row, cls) and (
                row in session.deleted or session.is_modified(row, include_collections=False)
            ):
                raise error(message)

    return cls


def soft_deletable_classes():
    return [
        mapper.class_
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, SoftDeleteMixin)
    ]


def _class_named(name):
    for cls in soft_deletable_classes():
        if cls.__name__ == name:
            return cls
    raise LookupError(f"no soft-deletable model named {name!r}")


def soft_delete(obj, by=None):
    """Mark one row deleted, leaving its children alone. Does not commit."""
    obj.deleted_at = utcnow()
    obj.deleted_by_id = by.id if by is not None else None
    obj.deleted_batch = uuid.uuid4().hex
    return obj.deleted_batch


def soft_delete_cascade(obj, by=None):
    """Mark ``obj`` and, transitively, every live row its deletion carries along.

    Set-based: one UPDATE per child class, whatever the number of rows. Returns the batch id.
    Does not commit.
    """
    session = db.session
    batch = soft_delete(obj, by)
    session.flush()
    stamp = {
        "deleted_at": obj.deleted_at,
        "deleted_by_id": obj.deleted_by_id,
        "deleted_batch": batch,
    }
    _cascade(session, type(obj), stamp)
    session.expire_all()
    return batch


def cascade_counts(obj):
    """{class name: live rows} that ``soft_delete_cascade(obj)`` would mark, ``obj`` included.
    Read only: one statement, following ``__soft_delete_cascade__`` as the deletion does."""
    sources = {}

    def walk(cls, ids):
        sources.setdefault(cls, []).append(ids)
        for child_name, fk_name in cls.__soft_delete_cascade__:
            child = _class_named(child_name)
            walk(child, select(child.id).where(getattr(child, fk_name).in_(ids),
                                               child.deleted_at.is_(None)))

    root = type(obj)
    walk(root, select(root.id).where(root.id == obj.id, root.deleted_at.is_(None)))
    counts = [select(func.count()).select_from(union(*ids).subquery() if len(ids) > 1
                                               else ids[0].subquery())
              .scalar_subquery().label(cls.__name__) for cls, ids in sources.items()]
    row = db.session.execute(select(*counts).execution_options(include_deleted=True)).one()
    return {name: count for name, count in row._asdict().items() if count}


def _cascade(session, parent_cls, stamp):
    parent_ids = select(parent_cls.id).where(parent_cls.deleted_batch == stamp["deleted_batch"])
    for child_name, fk_name in parent_cls.__soft_delete_cascade__:
        child_cls = _class_named(child_name)
        session.execute(
            update(child_cls)
            .where(getattr(child_cls, fk_name).in_(parent_ids), child_cls.deleted_at.is_(None))
            .values(**stamp)
            .execution_options(synchronize_session=False)
        )
        _cascade(session, child_cls, stamp)


def restore(obj):
    """Undo the deletion ``obj`` belongs to: the whole cascade it was part of, nothing more.

    Does not commit.
    """
    session = db.session
    batch = obj.deleted_batch
    if batch is None:
        return
    session.flush()
    for cls in soft_deletable_classes():
        session.execute(
            update(cls)
            .where(cls.deleted_batch == batch)
            .values(deleted_at=None, deleted_by_id=None, deleted_batch=None)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()
