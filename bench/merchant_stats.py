"""Owner pages at scale: statistics, card search and a full transaction export on PostgreSQL.

    .venv/bin/python bench/merchant_stats.py

Creates a fresh database (``loyalty_bench_stats`` on the local server, or ``--database-url``),
migrates it and seeds, with set-based SQL, one merchant with 20 stores, 100,000 cards and
1,000,000 ledger rows spread over two years. Then, in-process through the app (the test client,
so the figures are the server's own time without a network):

- the statistics page, median of 5 (target under 300 ms);
- the card list searching part of a name, median of 5 (target under 150 ms);
- the peak memory growth while streaming the full transaction CSV (target under 50 MB), measured
  in a fresh process as the growth of its peak resident memory.

Ends with ``RESULT stats_page_ms=<median> card_search_ms=<median> export_peak_mb=<n>``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import inprocess_app, recreate_database, signed_in_client, timed_gets
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_bench_stats"
PASSWORD = "bench-password-123"
OWNER = "owner@bench.example"
STORES, CARDS, ROWS, DAYS = 20, 100_000, 1_000_000, 730

SEED_SQL = [
    # Customers and cards, one each, enrolled at the stores in turn over two years.
    """
    INSERT INTO customers (merchant_id, name, email, phone, preferred_locale, consent_at, created_at)
    SELECT :merchant, 'Member ' || g || ' ' || (ARRAY['Muller','Schmit','Weber','Hoffmann','Wagner',
           'Becker','Klein','Reuter'])[1 + g % 8], 'member' || g || '@example.lu',
           '+352621' || lpad(g::text, 6, '0'), 'lb', now(), now() - (g % :days) * interval '1 day'
    FROM generate_series(1, :cards) g
    """,
    # The folded name the search reads (these names have no accents: lower case is enough).
    "UPDATE customers SET search_name = lower(name) WHERE merchant_id = :merchant",
    """
    INSERT INTO loyalty_cards (merchant_id, program_id, customer_id, card_number, qr_token,
        page_secret, stamp_count, points_balance, stamps_earned_total, rewards_redeemed_total,
        points_earned_total, points_redeemed_total, points_voided_total, points_expired_total,
        enrolled_at_store_id, is_active, created_at)
    SELECT c.merchant_id, :program, c.id,
           substr(n, 1, 4) || '-' || substr(n, 5, 4) || '-' || substr(n, 9, 4),
           md5('qr' || c.id), md5('page' || c.id || random()::text), 0, 0, 0, 0, 0, 0, 0, 0,
           :first_store + (c.id % :stores), true, c.created_at
    FROM customers c, LATERAL (SELECT lpad((c.id * 7919 % 1000000000000)::text, 12, '0') AS n) x
    WHERE c.merchant_id = :merchant
    """,
    # Ten rows per card over two years: six purchases, two stamps, a redemption and a void.
    """
    INSERT INTO loyalty_transactions (merchant_id, card_id, store_id, transaction_type,
        stamps_delta, points_delta, stamps_balance_after, points_balance_after, void_shortfall,
        purchase_amount_cents, transaction_at, created_at)
    SELECT :merchant, :first_card + (g % :cards), :first_store + (g % :stores),
           CASE WHEN j < 6 THEN 'points_earned' WHEN j < 8 THEN 'stamp_earned'
                WHEN j = 8 THEN 'points_redeemed' ELSE 'points_voided' END,
           CASE WHEN j IN (6, 7) THEN 1 ELSE 0 END,
           CASE WHEN j < 6 THEN 10 + (g % 17) * 10 WHEN j = 8 THEN -20 WHEN j = 9 THEN -5 ELSE 0 END,
           0, 0, 0,
           CASE WHEN j < 6 THEN 100 + (g % 17) * 100 END,
           now() - ((g::bigint * 7919) % (:days * 1440)) * interval '1 minute', now()
    FROM generate_series(0, :rows - 1) g, LATERAL (SELECT (g / :cards) % 10 AS j) x
    """,
    # Cards agree with their ledger.
    """
    UPDATE loyalty_cards c SET points_balance = s.points, stamp_count = s.stamps,
        stamps_earned_total = s.stamps, points_earned_total = s.earned,
        points_redeemed_total = s.redeemed, points_voided_total = s.voided,
        rewards_redeemed_total = s.rewards, last_activity_at = s.last
    FROM (SELECT card_id, sum(points_delta) AS points, sum(stamps_delta) AS stamps,
                 sum(points_delta) FILTER (WHERE transaction_type = 'points_earned') AS earned,
                 -sum(points_delta) FILTER (WHERE transaction_type = 'points_redeemed') AS redeemed,
                 -sum(points_delta) FILTER (WHERE transaction_type = 'points_voided') AS voided,
                 count(*) FILTER (WHERE transaction_type = 'points_redeemed') AS rewards,
                 max(transaction_at) AS last
          FROM loyalty_transactions WHERE merchant_id = :merchant GROUP BY card_id) s
    WHERE c.id = s.card_id
    """,
]


def seed(url):
    from flask_migrate import upgrade  # noqa: PLC0415

    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.models import Role  # noqa: PLC0415
    from loyalty.services.merchant import programs  # noqa: PLC0415
    from loyalty.services.platform import accounts  # noqa: PLC0415

    app = inprocess_app(url)
    with app.app_context():
        upgrade()
        merchant = accounts.create_merchant("Bench Bakery", "bench-bakery")
        stores = [accounts.create_store(merchant, f"Store {n:02d}", f"S{n:02d}")
                  for n in range(1, STORES + 1)]
        program = programs.create_program(merchant, "hybrid", "Bench card", points_per_euro=10,
                                          stamps_target=10, stamp_reward_value_cents=350)
        programs.add_reward(program, "Croissant", 50)
        owner = accounts.register_user(OWNER, PASSWORD, "Bench Owner")
        accounts.add_member(owner, merchant, Role.MERCHANT_OWNER)
        params = {"merchant": merchant.id, "program": program.id, "first_store": stores[0].id,
                  "stores": STORES, "cards": CARDS, "rows": ROWS, "days": DAYS}
        started = time.perf_counter()
        with db.engine.begin() as conn:
            customers, folded, cards, ledger, balances = SEED_SQL
            for statement in (customers, folded, cards):
                conn.execute(text(statement), params)
            params["first_card"] = conn.execute(text(
                "SELECT min(id) FROM loyalty_cards WHERE merchant_id = :merchant"), params).scalar()
            conn.execute(text(ledger), params)
            conn.execute(text(balances), params)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"Seeded {STORES} stores, {CARDS:,} cards and {ROWS:,} ledger rows over {DAYS} days "
              f"in {time.perf_counter() - started:.0f} s.")
        db.engine.dispose()


def median_ms(client, url, runs=5, **kwargs):
    timings = timed_gets(client, url, runs + 1, **kwargs)[1:]  # the first warms caches
    return statistics.median(timings), timings


def measure_pages(url):
    app = inprocess_app(url)
    with app.app_context():
        client = signed_in_client(app, OWNER, PASSWORD)
        stats_ms, stats_runs = median_ms(client, "/merchant/stats")
        search_ms, search_runs = median_ms(client, "/merchant/cards", query_string={"q": "schmit"})
        number_ms, _ = median_ms(client, "/merchant/cards", query_string={"q": "4417"})
    return stats_ms, stats_runs, search_ms, search_runs, number_ms


def _status_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure_export(url):
    """Runs in a fresh process: peak resident memory growth while the CSV streams."""
    app = inprocess_app(url)
    with app.app_context():
        client = signed_in_client(app, OWNER, PASSWORD)
        client.get("/merchant/stats")  # everything imported and warm
        baseline = _status_kb("VmRSS")
        started = time.perf_counter()
        response = client.get("/merchant/exports/transactions.csv", buffered=False)
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        seconds = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    print(json.dumps({"growth_mb": (peak - baseline) / 1024, "rows": lines - 1,
                      "mb": size / 1024 / 1024, "seconds": seconds}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    if args.export_only:
        measure_export(url)
        return
    if not args.skip_seed:
        recreate_database(url)
        seed(url)
    stats_ms, stats_runs, search_ms, search_runs, number_ms = measure_pages(url)
    print(f"Statistics page: median {stats_ms:.0f} ms over 5 requests "
          f"({', '.join(f'{t:.0f}' for t in stats_runs)} ms); target under 300 ms.")
    print(f"Card list searching a name: median {search_ms:.0f} ms "
          f"({', '.join(f'{t:.0f}' for t in search_runs)} ms); part of a card number: "
          f"{number_ms:.0f} ms; target under 150 ms.")
    child = subprocess.run([sys.executable, __file__, "--export-only", "--database-url",
                            args.database_url], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    export = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"Full transaction export: {export['rows']:,} rows, {export['mb']:.0f} MB of CSV in "
          f"{export['seconds']:.0f} s; peak memory grew by {export['growth_mb']:.1f} MB "
          f"(target under 50 MB).")
    print(f"RESULT stats_page_ms={stats_ms:.0f} card_search_ms={search_ms:.0f} "
          f"export_peak_mb={export['growth_mb']:.1f}")


if __name__ == "__main__":
    main()
