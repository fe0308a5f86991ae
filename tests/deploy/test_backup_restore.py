"""The README's backup and restore, done once: a demo database dumped with ``pg_dump -Fc``,
restored with ``pg_restore`` into a fresh database, and found whole (``check-ledger`` clean, the
same rows). PostgreSQL only: skipped on the SQLite phase; with ``REQUIRE_REDIS=1`` (CI) on
PostgreSQL, missing client tools are a failure."""
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from loyalty.config import normalize_database_url

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
#: What a restore must bring back: the record, the people, their cards, the uploaded files.
TABLES = ("merchants", "customers", "loyalty_cards", "loyalty_transactions", "audit_log",
          "sent_emails", "stored_files")

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith(("postgres://", "postgresql")),
    reason="backups are pg_dump's: PostgreSQL only (TEST_DATABASE_URL)")


def _tools():
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        message = f"{' and '.join(missing)} not installed (apt-get install postgresql-client)"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def two_databases():
    """Two fresh, empty databases on the test server (the original and the restored copy),
    dropped afterwards; yields their ``postgresql://`` URLs."""
    server = make_url(TEST_DATABASE_URL)
    admin = create_engine(normalize_database_url(TEST_DATABASE_URL),
                          isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    names = [f"{server.database}_backup_{suffix}", f"{server.database}_restored_{suffix}"]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield [server.set(database=name).render_as_string(hide_password=False)
               for name in names]
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def flask(database_url, *args):
    """``flask --app wsgi ...`` as an operator types it, on ``database_url``, without Redis."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "LOYALTY_ENV", "TEST_DATABASE_URL")}
    env["DATABASE_URL"] = database_url
    # A throwaway database: cheap hashes, commits not waited for (the suite's time, not the test's)
    env.update(BCRYPT_ROUNDS="4", PIN_BCRYPT_ROUNDS="4", PGOPTIONS="-c synchronous_commit=off")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def counts(database_url):
    engine = create_engine(normalize_database_url(database_url))
    with engine.connect() as conn:
        found = {table: conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in TABLES}
        found["points"] = conn.scalar(text("SELECT sum(points_balance) FROM loyalty_cards"))
        found["revision"] = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    return found


def test_a_dumped_demo_database_restores_whole_and_its_ledger_checks_clean(two_databases,
                                                                           tmp_path):
    _tools()
    original, restored = two_databases
    for step in (("db", "upgrade"), ("loyalty", "demo", "--history-days", "3")):
        done = flask(original, *step)
        assert done.returncode == 0, done.stderr
    before = counts(original)
    assert before["loyalty_transactions"] > 0 and before["loyalty_cards"] > 0

    dump = tmp_path / "loyalty.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", original],
                   check=True, timeout=60)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}",
                    str(dump)], check=True, timeout=60)

    checked = flask(restored, "loyalty", "check-ledger")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Ledger OK" in checked.stdout
    assert counts(restored) == before
