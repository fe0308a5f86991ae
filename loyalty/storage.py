"""Where uploaded files are kept: one small interface, the database behind it by default.

Nothing a request needs may live on one web machine's disk, so uploads are rows of
``stored_files`` that every machine reads. Callers use ``put``, ``get`` and ``exists``; a
deployment that wants another store (an object store) sets ``app.extensions["file_store"]``
to an object with the same three methods, and no caller changes.

Names are content addressed (``<sha256>.<extension>``): a name always means the same bytes,
so writing one twice is harmless and a file may be cached forever.
"""
from flask import current_app
from sqlalchemy import exists as sql_exists
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from loyalty.extensions import db
from loyalty.models import StoredFile

#: The kinds of file kept, by extension.
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


class DatabaseFiles:
    """Files as rows of ``stored_files``. ``put`` writes in the caller's transaction, so a
    file and the row that points at it are committed together, or neither is."""

    def put(self, name, data, content_type):
        """Keep ``data`` under ``name``; a name already kept is left as it is."""
        session = db.session()
        dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
        session.execute(
            dialect.insert(StoredFile)
            .values(name=name, content_type=content_type, size=len(data), data=data)
            .on_conflict_do_nothing(index_elements=["name"]))

    def get(self, name):
        """``(bytes, content type)`` of the file kept under ``name``, or None."""
        row = db.session.execute(select(StoredFile.data, StoredFile.content_type)
                                 .where(StoredFile.name == name)).first()
        return (bytes(row.data), row.content_type) if row else None

    def exists(self, name):
        return bool(db.session.scalar(select(sql_exists().where(StoredFile.name == name))))


DATABASE = DatabaseFiles()


def file_store():
    """The app's file store: the one a deployment registered, else the database."""
    return current_app.extensions.get("file_store") or DATABASE


def put(name, data, content_type):
    file_store().put(name, data, content_type)


def get(name):
    return file_store().get(name)


def exists(name):
    return file_store().exists(name)
