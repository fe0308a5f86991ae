"""Uploaded files kept in the database (every web machine serves the same logos and pictures);
the files of the old upload folder are copied in

Revision ID: 26a1b2c3d4e6
Revises: 25a1b2c3d4e5
Create Date: 2026-12-07 18:00:00

"""
import os
import re
from datetime import UTC, datetime

from alembic import context, op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '26a1b2c3d4e6'
down_revision = '25a1b2c3d4e5'
branch_labels = None
depends_on = None

#: What the app ever wrote there: ``<sha256>.<extension>`` (temporary ``.part`` files are not).
MEDIA_NAME = re.compile(r"^[0-9a-f]{64}\.(png|jpg|webp)\Z")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def _upload_folder():
    """The folder uploads were kept in: the app's setting, else the environment's
    ``UPLOAD_FOLDER``, else the default, ``instance/uploads``."""
    return (current_app.config.get("UPLOAD_FOLDER") or os.environ.get("UPLOAD_FOLDER")
            or os.path.join(current_app.instance_path, "uploads"))


def _copy_uploads(stored_files):
    folder = _upload_folder()
    if not os.path.isdir(folder):
        return
    connection = op.get_bind()
    for name in sorted(os.listdir(folder)):
        match = MEDIA_NAME.match(name)
        path = os.path.join(folder, name)
        if not match or not os.path.isfile(path):
            continue
        with open(path, "rb") as file:
            data = file.read()
        # One file at a time: a folder of large pictures is never held in memory at once.
        connection.execute(stored_files.insert().values(
            name=name, content_type=CONTENT_TYPES[match.group(1)], size=len(data), data=data,
            created_at=datetime.now(UTC)))


def upgrade():
    stored_files = op.create_table(
        'stored_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
        sa.UniqueConstraint('name', name=op.f('uq_stored_files_name')),
    )
    if not context.is_offline_mode():  # a SQL script carries no files; run it online to copy
        _copy_uploads(stored_files)


def downgrade():
    op.drop_table('stored_files')
