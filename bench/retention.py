"""The retention page at 1,000,000 ledger rows on PostgreSQL.

    .venv/bin/python bench/retention.py

Creates a fresh database (``loyalty_bench_retention`` on the local server, or
``--database-url``) and seeds it as ``bench/merchant_stats.py`` does, with set-based SQL: one
merchant, 20 stores, 100,000 cards and 1,000,000 ledger rows over two years. Then times the
owner's retention page in-process through the app's test client (the server's own time, no
network): the median of 5 requests after a first that warms the caches (target under 300 ms).

Ends with ``RESULT retention_page_ms=<median>``.
"""
import argparse
import statistics
import sys
from pathlib import Path

from harness import inprocess_app, recreate_database, signed_in_client, timed_gets
from merchant_stats import OWNER, PASSWORD, ROWS, seed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_bench_retention"


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
        client = signed_in_client(app, OWNER, PASSWORD)
        timings = timed_gets(client, "/merchant/retention", 6)[1:]  # the first warms caches
        csv_ms = statistics.median(timed_gets(client, "/merchant/retention.csv", 3, buffered=True))
    page_ms = statistics.median(timings)
    print(f"Retention page over {ROWS:,} ledger rows: median {page_ms:.0f} ms over 5 requests "
          f"({', '.join(f'{t:.0f}' for t in timings)} ms); target under 300 ms. "
          f"Its CSV export: median {csv_ms:.0f} ms.")
    print(f"RESULT retention_page_ms={page_ms:.0f}")


if __name__ == "__main__":
    main()
