"""The retention page at 1,000,000 ledger rows on PostgreSQL.

    .venv/bin/python bench/retention.py            # seeds first (~70 s)
    .venv/bin/python bench/retention.py --skip-seed

Creates a fresh database (``loyalty_bench_retention`` on the local server, or
``--database-url``) and seeds it as ``bench/merchant_stats.py`` does, with set-based SQL: one
merchant, 20 stores, 100,000 cards and 1,000,000 ledger rows over two years. Then times, in
process (the server's own time, no network):

1. the first computation of the day, what the morning run pays once per merchant
   (``retention_snapshots.morning`` with no snapshot kept: the statement over the ledger and
   the insert), median of 3;
2. the owner's retention page with the day's snapshot present, what owners see: median of 5
   requests after a first that warms the caches (target under 300 ms); and its CSV.

The figures are up to the end of yesterday; between local midnight and 01:00 none is kept
(the page computes each time), so run it at another hour.

Ends with ``RESULT retention_page_ms=<warm median> first_computation_ms=<cold median>``.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

from harness import inprocess_app, recreate_database, signed_in_client, timed_gets
from merchant_stats import OWNER, PASSWORD, ROWS, seed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_bench_retention"


def first_computations(merchant_id, runs):
    """Milliseconds of ``runs`` morning steps, each with no snapshot kept before it."""
    from sqlalchemy import delete  # noqa: PLC0415 - after sys.path

    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.models import RetentionSnapshot  # noqa: PLC0415
    from loyalty.services.merchant import retention_snapshots  # noqa: PLC0415

    timings = []
    for _ in range(runs):
        db.session.execute(delete(RetentionSnapshot))
        db.session.commit()
        started = time.perf_counter()
        assert retention_snapshots.morning(merchant_id) == 1
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if not args.skip_seed:
        recreate_database(url)
        seed(url)
    app = inprocess_app(url)
    with app.app_context():
        from loyalty.extensions import db  # noqa: PLC0415
        from loyalty.models import Merchant  # noqa: PLC0415

        merchant_id = db.session.query(Merchant.id).scalar()
        cold = first_computations(merchant_id, 3)
        client = signed_in_client(app, OWNER, PASSWORD)
        timings = timed_gets(client, "/merchant/retention", 6)[1:]  # the first warms caches
        csv_ms = statistics.median(timed_gets(client, "/merchant/retention.csv", 3, buffered=True))
    page_ms, cold_ms = statistics.median(timings), statistics.median(cold)
    print(f"Retention over {ROWS:,} ledger rows. The first computation of the day (the morning "
          f"run, once per merchant): median {cold_ms:.0f} ms over 3 "
          f"({', '.join(f'{t:.0f}' for t in cold)} ms).")
    print(f"The owner's page with the day's figures kept: median {page_ms:.0f} ms over 5 "
          f"requests ({', '.join(f'{t:.0f}' for t in timings)} ms); target under 300 ms. "
          f"Its CSV export: median {csv_ms:.0f} ms.")
    print(f"RESULT retention_page_ms={page_ms:.0f} first_computation_ms={cold_ms:.0f}")


if __name__ == "__main__":
    main()
