"""Files people upload (logos, hero pictures), kept in the database so every web machine
serves the same ones. A file is named by the SHA-256 of its bytes and never changes."""
from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db
from loyalty.models.base import UTCDateTime, utcnow


class StoredFile(db.Model):
    """One uploaded file: ``name`` is ``<sha256 of data>.<extension>``, so a row is written
    once and never updated; a changed picture is a new row with a new name."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __repr__(self):
        return f"<StoredFile {self.name} {self.size} bytes>"
