"""Upgrading from a release that kept uploads as files: the migration copies the old upload
folder into ``stored_files``, and the logos are served from the database afterwards."""
import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from loyalty import create_app
from loyalty.extensions import db
from loyalty.models import StoredFile
from tests import images

BEFORE = "25a1b2c3d4e5"


def _app(tmp_path, **settings):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
                       **settings})


def _kept(folder, data, kind):
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    (folder / name).write_bytes(data)
    return name


def test_the_old_upload_folder_is_copied_in_and_served(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    logo = _kept(folder, images.encoded(30, 20), "png")
    hero = _kept(folder, images.encoded(60, 20, "JPEG"), "jpg")
    (folder / f"{logo}.123.part").write_bytes(b"half a file")  # an upload cut off: not ours
    (folder / "notes.txt").write_text("left by someone")
    app = _app(tmp_path, UPLOAD_FOLDER=str(folder))
    with app.app_context():
        upgrade(revision=BEFORE)
        upgrade()
        rows = {row.name: row for row in db.session.scalars(select(StoredFile))}
        assert set(rows) == {logo, hero}
        assert (rows[hero].content_type, rows[hero].size) == ("image/jpeg",
                                                              (folder / hero).stat().st_size)
        db.session.remove()
        client = app.test_client()
        served = client.get(f"/media/{logo}")
        assert served.status_code == 200 and served.data == (folder / logo).read_bytes()
        assert served.headers["Content-Type"] == "image/png"
        db.engine.dispose()


def test_without_an_upload_folder_the_table_is_made_empty_and_downgrade_drops_it(tmp_path):
    app = _app(tmp_path, UPLOAD_FOLDER=str(tmp_path / "never-made"))
    with app.app_context():
        upgrade()
        assert db.session.scalars(select(StoredFile)).all() == []
        db.session.remove()
        downgrade(revision=BEFORE)
        assert "stored_files" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
