"""Points expiry at scale on PostgreSQL: 1,000,000 cards across 50 merchants.

    .venv/bin/python bench/expiry.py

Creates a fresh database (``loyalty_bench_expiry`` on the local server, or ``--database-url``),
migrates it, creates 50 merchants with a points program (points expire after 365 days without
activity), and seeds with set-based SQL one customer, one card and one purchase row per card:
half of the cards were last active 400-700 days ago (their points are due), half in the last
300 days. Then, in-process through the service the nightly job runs:

- expiry, first run, the merchants shared by as many workers as the machine has cores (the
  schedule runs one job per merchant): cards per second and the total time (target under 60 s);
- expiry, second run: it must expire nothing (target under 5 s);
- ``check-ledger`` over every card.

With ``--lots`` the programs expire points by earning month instead (12 months after the
month they were earned): each card's balance is one lot of the month of its purchase, seeded
with one more set-based statement; the same half of the cards (purchases 400-700 days ago)
is due. ``ledger=clean`` then also needs every card's lots to sum to its balance.

Ends with ``RESULT cards=<n> first_run_s=<x> second_run_s=<x> expired_second_run=<n>
ledger=clean|drift``.
"""
import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import recreate_database
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_bench_expiry"
MERCHANTS, CARDS = 50, 1_000_000

SEED_SQL = [
    # One customer per card, the merchants in turn.
    """
    INSERT INTO customers (merchant_id, name, search_name, preferred_locale, consent_at, created_at)
    SELECT m.id, 'Member ' || g, 'member ' || g, 'lb', now(), now() - interval '800 days'
    FROM generate_series(0, :cards - 1) g
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM merchants) m
      ON m.n = g % :merchants
    """,
    # Half the cards last active 400-700 days ago (due), half in the last 300 days.
    """
    INSERT INTO loyalty_cards (merchant_id, program_id, customer_id, card_number, qr_token,
        page_secret, stamp_count, points_balance, stamps_earned_total, rewards_redeemed_total,
        points_earned_total, points_redeemed_total, points_voided_total, points_expired_total,
        last_points_at, last_activity_at, is_active, created_at)
    SELECT c.merchant_id, p.id, c.id,
           substr(n, 1, 4) || '-' || substr(n, 5, 4) || '-' || substr(n, 9, 4),
           md5('qr' || c.id), md5('page' || c.id || random()::text),
           0, b, 0, 0, b, 0, 0, 0, t, t, true, c.created_at
    FROM customers c
    JOIN loyalty_programs p ON p.merchant_id = c.merchant_id,
    LATERAL (SELECT lpad((c.id::bigint * 7919 % 1000000000000)::text, 12, '0') AS n,
                    100 + c.id % 400 AS b,
                    now() - CASE WHEN c.id % 2 = 0 THEN (400 + c.id % 300) ELSE c.id % 300 END
                            * interval '1 day' AS t) x
    """,
    # The purchase each balance came from.
    """
    INSERT INTO loyalty_transactions (merchant_id, card_id, transaction_type, stamps_delta,
        points_delta, stamps_balance_after, points_balance_after, void_shortfall,
        purchase_amount_cents, transaction_at, created_at)
    SELECT merchant_id, id, 'points_earned', 0, points_balance, 0, points_balance, 0,
           points_balance * 10, last_activity_at, last_activity_at
    FROM loyalty_cards
    """,
]


# Expiry by earning month: each card's balance is the lot of its purchase's local month.
LOTS_SQL = """
    INSERT INTO point_lots (merchant_id, card_id, earned_month, expires_at, points_earned,
        points_left, source_transaction_id)
    SELECT t.merchant_id, t.card_id, m.month,
           (m.month + interval '13 months')::timestamp AT TIME ZONE 'Europe/Luxembourg',
           t.points_delta, t.points_delta, t.id
    FROM loyalty_transactions t,
    LATERAL (SELECT date_trunc('month', t.transaction_at AT TIME ZONE 'Europe/Luxembourg')::date
                    AS month) m
    WHERE t.transaction_type = 'points_earned'
"""
LOTS_DUE = "SELECT count(DISTINCT card_id) FROM point_lots WHERE points_left > 0 AND expires_at <= now()"
INACTIVE_DUE = ("SELECT count(*) FROM loyalty_cards "
                "WHERE last_activity_at < now() - interval '365 days'")
LOTS_DRIFT = """
    SELECT count(*) FROM loyalty_cards c
    LEFT JOIN (SELECT card_id, sum(points_left) AS s FROM point_lots GROUP BY card_id) l
      ON l.card_id = c.id
    WHERE coalesce(l.s, 0) <> c.points_balance
"""


def make_app(url):
    from loyalty import create_app  # noqa: PLC0415 - after sys.path is set

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4,
                       "RATELIMIT_STORAGE_URI": "memory://"})


def seed(app, cards, lots=False):
    from flask_migrate import upgrade  # noqa: PLC0415

    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.services.merchant import programs  # noqa: PLC0415
    from loyalty.services.platform import accounts  # noqa: PLC0415

    upgrade()
    for n in range(1, MERCHANTS + 1):
        merchant = accounts.create_merchant(f"Bench Shop {n:02d}", f"bench-shop-{n:02d}")
        rule = ({"points_expiry_rule": "earning_month", "points_expiry_months": 12} if lots
                else {"points_expiration_days": 365})
        programs.create_program(merchant, "points", "Bench points", points_per_euro=10, **rule)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for statement in SEED_SQL + ([LOTS_SQL] if lots else []):
            conn.execute(text(statement), {"cards": cards, "merchants": MERCHANTS})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"Seeded {MERCHANTS} merchants, {cards:,} cards with one purchase each "
          f"in {time.perf_counter() - started:.0f} s.", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cards", type=int, default=CARDS)
    parser.add_argument("--lots", action="store_true",
                        help="points expire by earning month (lots) instead of inactivity")
    args = parser.parse_args()
    print(f"Preparing a fresh database at {args.database_url} ...", flush=True)
    recreate_database(args.database_url)
    app = make_app(args.database_url)
    with app.app_context():
        from loyalty.extensions import db  # noqa: PLC0415
        from loyalty.services.engine.ledger import ledger_drift  # noqa: PLC0415
        from loyalty.services.engine.points import expire_points  # noqa: PLC0415

        seed(app, args.cards, lots=args.lots)
        due = db.session.scalar(text(LOTS_DUE if args.lots else INACTIVE_DUE))
        db.session.rollback()
        merchants = db.session.scalars(text("SELECT id FROM merchants ORDER BY id")).all()
        db.session.rollback()

        def expire(merchant_id):
            with app.app_context():
                return expire_points(merchant_id=merchant_id)

        workers = os.cpu_count() or 2
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            first = sum(pool.map(expire, merchants))
        first_s = time.perf_counter() - started
        print(f"First run: {first:,} of {args.cards:,} cards expired ({due:,} were due) in "
              f"{first_s:.1f} s, {first / first_s:,.0f} cards per second, {workers} merchants at a"
              f" time (target under 60 s).",
              flush=True)
        started = time.perf_counter()
        second = expire_points()
        second_s = time.perf_counter() - started
        print(f"Second run: {second:,} cards expired in {second_s:.1f} s "
              f"(target: none, under 5 s).", flush=True)
        started = time.perf_counter()
        drift = ledger_drift()
        if args.lots:
            drift += [{"lots": n} for n in [db.session.scalar(text(LOTS_DRIFT))] if n]
        print(f"check-ledger over {args.cards:,} cards: {len(drift)} drifting "
              f"({time.perf_counter() - started:.0f} s).")
        db.session.rollback()
        db.engine.dispose()
    ledger = "clean" if not drift and first == due else "drift"
    print(f"RESULT cards={args.cards} first_run_s={first_s:.1f} second_run_s={second_s:.1f}"
          f" expired_second_run={second} ledger={ledger}")
    sys.exit(0 if ledger == "clean" and second == 0 else 1)


if __name__ == "__main__":
    main()
