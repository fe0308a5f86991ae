"""The back office at platform scale: the dashboard and the programs list on PostgreSQL.

    .venv/bin/python bench/admin_dashboard.py

Creates a fresh database (``loyalty_bench_admin`` on the local server, or ``--database-url``),
migrates it and seeds, with set-based SQL, 200 merchants (each with a program: stamps,
points or both, and one to three stores), 1,000,000 cards and 5,000,000 ledger rows spread
over a year. Then, in-process through the app (the test client, so the figures are the
server's own time without a network), signed in as a platform admin:

- the dashboard, median of 5 (target under 500 ms). The first request, not counted, sums the
  closed days of the whole ledger once (``ledger_days``), as the first visit after an upgrade
  does; its time is printed too;
- the programs list sorted by liability, median of 5.

Ends with ``RESULT dashboard_ms=<median> program_list_ms=<median>``.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

from harness import inprocess_app, recreate_database, signed_in_client, timed_gets
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_bench_admin"
PASSWORD = "bench-password-123"
ADMIN = "admin@bench.example"
MERCHANTS, CARDS, ROWS, DAYS = 200, 1_000_000, 5_000_000, 365

SEED_SQL = [
    """
    INSERT INTO merchants (name, slug, timezone, currency, default_locale, country,
                           cache_version, created_at)
    SELECT 'Shop ' || lpad(m::text, 3, '0'), 'shop-' || m, 'Europe/Luxembourg',
           CASE WHEN m % 10 = 0 THEN 'CHF' ELSE 'EUR' END, 'lb', 'LU', 0, now()
    FROM generate_series(1, :merchants) m
    """,
    """
    INSERT INTO stores (merchant_id, name, code, is_active, created_at)
    SELECT m.id, 'Store ' || s, 'S' || s, true, now()
    FROM merchants m, generate_series(1, 3) s WHERE s <= 1 + m.id % 3
    """,
    """
    INSERT INTO loyalty_programs (merchant_id, program_type, stamps_target,
        stamp_reward_description, stamp_reward_value_cents, points_per_euro, point_value_cents,
        welcome_bonus_points, minimum_redemption_points, minimum_purchase_cents,
        expiry_warning_days, cooldown_minutes, max_stamps_per_day, require_staff_pin, card_name,
        primary_color, secondary_color, is_active, translations, created_at)
    SELECT id, (ARRAY['stamps', 'points', 'hybrid'])[1 + id % 3], 10, 'A coffee', 350, 10, 1,
           0, 0, 0, 14, 15, 5, true, 'Card ' || id, '#1d5c4d', '#ffffff', id % 7 <> 0, '{}', now()
    FROM merchants
    """,
    """
    INSERT INTO customers (merchant_id, name, email, preferred_locale, consent_at, created_at)
    SELECT 1 + g % :merchants, 'Member ' || g, 'member' || g || '@example.lu', 'lb', now(),
           now() - (g % :days) * interval '1 day'
    FROM generate_series(1, :cards) g
    """,
    """
    INSERT INTO loyalty_cards (merchant_id, program_id, customer_id, card_number, qr_token,
        page_secret, stamp_count, points_balance, stamps_earned_total, rewards_redeemed_total,
        points_earned_total, points_redeemed_total, points_voided_total, points_expired_total,
        stamps_today, is_active, created_at, last_activity_at)
    SELECT c.merchant_id, p.id, c.id, lpad(c.id::text, 4, '0') || '-' || lpad((c.id * 7)::text, 8, '0'),
           md5('qr' || c.id), md5('page' || c.id), c.id % 9, (c.id % 40) * 10, c.id % 9, 0,
           (c.id % 40) * 10 + 100, 100, 0, 0, 0, c.id % 50 <> 0, c.created_at,
           now() - (c.id % 90) * interval '1 day'
    FROM customers c JOIN loyalty_programs p ON p.merchant_id = c.merchant_id
    """,
    """
    INSERT INTO loyalty_transactions (merchant_id, card_id, transaction_type, stamps_delta,
        points_delta, stamps_balance_after, points_balance_after, void_shortfall,
        transaction_at, created_at)
    SELECT 1 + (g % :cards) % :merchants, :first_card + (g % :cards),
           (ARRAY['points_earned', 'stamp_earned', 'points_earned', 'stamp_earned',
                  'points_redeemed', 'stamp_redeemed', 'points_expired', 'welcome_bonus'])[1 + g % 8],
           CASE g % 8 WHEN 1 THEN 1 WHEN 3 THEN 1 WHEN 5 THEN -10 ELSE 0 END,
           CASE g % 8 WHEN 0 THEN 50 WHEN 2 THEN 30 WHEN 4 THEN -40 WHEN 6 THEN -5
                      WHEN 7 THEN 20 ELSE 0 END,
           0, 0, 0,
           now() - ((g::bigint * 7919) % (:days * 1440)) * interval '1 minute', now()
    FROM generate_series(0, :rows - 1) g
    """,
]


def seed(url):
    from flask_migrate import upgrade  # noqa: PLC0415

    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.services.platform import accounts  # noqa: PLC0415

    app = inprocess_app(url)
    with app.app_context():
        upgrade()
        accounts.register_user(ADMIN, PASSWORD, "Bench Admin", is_platform_admin=True)
        params = {"merchants": MERCHANTS, "cards": CARDS, "rows": ROWS, "days": DAYS}
        started = time.perf_counter()
        with db.engine.begin() as conn:
            *setup, ledger = SEED_SQL
            for statement in setup:
                conn.execute(text(statement), params)
            params["first_card"] = conn.execute(text("SELECT min(id) FROM loyalty_cards")).scalar()
            conn.execute(text(ledger), params)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"Seeded {MERCHANTS} merchants, {CARDS:,} cards and {ROWS:,} ledger rows over "
              f"{DAYS} days in {time.perf_counter() - started:.0f} s.")
        db.engine.dispose()


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
    if args.skip_seed:  # a database seeded by an older version: bring its schema up to date
        from flask_migrate import upgrade  # noqa: PLC0415

        with app.app_context():
            upgrade()
    with app.app_context():
        client = signed_in_client(app, ADMIN, PASSWORD)
        [first] = timed_gets(client, "/admin/", 1)
        dashboard = timed_gets(client, "/admin/", 5)
        programs = timed_gets(client, "/admin/programs", 6, query_string={"sort": "liability"})[1:]
    dashboard_ms, programs_ms = statistics.median(dashboard), statistics.median(programs)
    print(f"First dashboard request (it sums the closed days not yet summed: all {DAYS} after a "
          f"fresh seed, as the first visit after an upgrade does): {first:.0f} ms.")
    print(f"Dashboard: median {dashboard_ms:.0f} ms over 5 requests "
          f"({', '.join(f'{t:.0f}' for t in dashboard)} ms); target under 500 ms.")
    print(f"Programs list sorted by liability: median {programs_ms:.0f} ms over 5 requests "
          f"({', '.join(f'{t:.0f}' for t in programs)} ms).")
    print(f"RESULT dashboard_ms={dashboard_ms:.0f} program_list_ms={programs_ms:.0f}")


if __name__ == "__main__":
    main()
