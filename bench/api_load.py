"""Load benchmark: 16 tills calling the integration API against gunicorn on PostgreSQL.

    .venv/bin/python bench/api_load.py

Creates a fresh PostgreSQL database (``loyalty_bench_api`` on the local server), migrates it,
seeds one merchant with a hybrid program (10 points per euro, a 10-stamp card), a store, 300
cards and one API key per till (bound to the store), starts gunicorn (3 sync workers, warmed by
``gunicorn.conf.py``) with Redis for the per-key counters, and lets each till loop as a till
does: look the card up (``GET /cards?query=`` with the number as scanned, or
``GET /cards/{number}``), credit a purchase with a new order reference, and now and then
refund part of one of its own earlier orders, every POST with an ``Idempotency-Key``. After a
short warm-up, one timed window prints HTTP requests per second, p50/p99 latency, errors (any
answer but the 200/201 expected: the tills only refund what is left of their orders) and the
server CPU each request cost (gunicorn and PostgreSQL, from ``/proc``); then
``flask loyalty check-ledger`` and a check of the orders (no order refunded past its amount,
no refund taking back more points than its order earned). The per-key limit is raised out of
reach (its counting is still paid): the limit is not what is measured. The last line is
machine-readable (the database is dropped before it):

    RESULT cpu_ms_per_request=<x> requests_per_s=<x> errors=<n> ledger=clean|drift

Compare with ``bench/terminal_load.py`` (the counter's own pages, same machine and mix).
"""
import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from harness import (
    VENV_BIN,
    cpu_seconds,
    gunicorn_pids,
    percentile,
    postgres_pids,
    recreate_database,
    start_gunicorn,
)

ROOT = Path(__file__).resolve().parents[1]
CARDS = 300

SEED = """
import json
from loyalty.services.engine import cards
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
merchant = accounts.create_merchant("Bench Shop", "bench-shop")
store = accounts.create_store(merchant, "Main street", "MAIN")
program = programs.create_program(merchant, "hybrid", "Bench card", stamps_target=10,
    stamp_reward_description="A free coffee", cooldown_minutes=0, max_stamps_per_day=1000000,
    points_per_euro=10, require_staff_pin=False)
for name, cost in [("Coffee", 50), ("Cake", 150), ("Lunch", 600)]:
    programs.add_reward(program, name, cost)
numbers = []
for i in range({cards}):
    card = cards.enroll_customer(merchant, name=f"Customer {{i}}", email=f"c{{i}}@bench.example.com",
                                 context=ActionContext(store_id=store.id))
    earn_points(card, 2000, context=ActionContext(store_id=store.id))
    numbers.append(card.card_number)
keys = [api_keys.create_key(merchant.id, name=f"Till {{i + 1}}", store_id=store.id,
                            scopes=["cards:read", "purchases"])[1] for i in range({tills})]
print(json.dumps({{"numbers": numbers, "keys": keys}}))
"""

ORDERS_CHECK = """
from sqlalchemy import text
from loyalty.extensions import db
bad = db.session.execute(text('''
    SELECT o.order_reference, o.amount_cents, COALESCE(r.refunded, 0), e.points_delta,
           COALESCE(r.taken, 0)
    FROM api_orders o
    JOIN loyalty_transactions e ON e.id = o.points_transaction_id
    LEFT JOIN (SELECT related_transaction_id, order_reference,
                      SUM(purchase_amount_cents) AS refunded, SUM(points_delta) AS taken
               FROM loyalty_transactions WHERE related_transaction_id IS NOT NULL
               GROUP BY related_transaction_id, order_reference) r
      ON r.related_transaction_id = o.points_transaction_id
     AND r.order_reference = o.order_reference
    WHERE COALESCE(r.refunded, 0) > o.amount_cents OR -COALESCE(r.taken, 0) > e.points_delta
''')).all()
orders = db.session.execute(text("SELECT COUNT(*) FROM api_orders")).scalar()
refunds = db.session.execute(text(
    "SELECT COUNT(*) FROM loyalty_transactions o JOIN api_orders a"
    " ON o.related_transaction_id = a.points_transaction_id"
    " AND o.order_reference = a.order_reference")).scalar()
print(json.dumps({"orders": orders, "refunds": refunds, "bad": [list(map(str, row)) for row in bad]}))
"""


def drop_database(url):
    """Drop the benchmark's database once its figures are out (it is made afresh each run)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def in_app(env, code, *args):
    """Run ``code`` inside the app's context in a fresh interpreter; its last line, as JSON."""
    runner = ("import json, sys\nfrom wsgi import app\nwith app.app_context():\n"
              + "\n".join("    " + line for line in code.strip().splitlines()))
    out = subprocess.run([sys.executable, "-c", runner, *args], cwd=ROOT, env=env, check=True,
                         text=True, capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


class Till:
    """One till: its own key and connection (the standard library's client, so the two cores
    go to the server), the orders it credited and what is left to refund of each."""

    def __init__(self, port, index, key, numbers):
        self.port, self.index, self.numbers = port, index, numbers
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        self.rng = random.Random(index)
        self.orders = {}  # reference -> cents not refunded yet
        self.stop = self.results = self.lock = None

    def call(self, kind, method, path, body=None):
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = uuid.uuid4().hex
        started = time.perf_counter()
        try:
            self.connection.request(method, "/api/v1" + path, body=payload, headers=headers)
            response = self.connection.getresponse()
            text = response.read()
            status = response.status
            if (response.getheader("Connection") or "").lower() == "close":
                self.connection.close()  # gunicorn's sync workers close; reopened next time
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            text, status = str(error).encode(), 0
        elapsed = time.perf_counter() - started
        with self.lock:
            self.results.append((kind, status, elapsed, text[:200] if status >= 300 or
                                 status == 0 else b""))
        return status, text

    def run(self):
        while not self.stop.is_set():
            number = self.rng.choice(self.numbers)
            if self.rng.random() < 0.5:
                query = number if self.rng.random() < 0.5 else number.replace("-", "")
                self.call("lookup", "GET", "/cards?" + urlencode({"query": query}))
            else:
                self.call("lookup", "GET", f"/cards/{quote(number)}")
            reference = f"T{self.index}-{uuid.uuid4().hex[:16]}"
            cents = self.rng.randint(150, 6000)
            status, _text = self.call("purchase", "POST", f"/cards/{quote(number)}/purchases", {
                "order_reference": reference, "amount": f"{cents / 100:.2f}",
                "currency": "EUR", "stamps": 1})
            if status == 201:
                self.orders[reference] = cents
            if self.orders and self.rng.random() < 0.3:
                reference = self.rng.choice(list(self.orders))
                left = self.orders[reference]
                part = left if left <= 100 else self.rng.randint(1, left // 2)
                status, _text = self.call("refund", "POST", f"/orders/{quote(reference)}/refunds",
                                          {"amount": f"{part / 100:.2f}", "currency": "EUR"})
                if status == 201:
                    left -= part
                    if left:
                        self.orders[reference] = left
                    else:
                        del self.orders[reference]


def load(tills, seconds, server):
    """``seconds`` of load by every till; the figures of that window."""
    results, lock, stop = [], threading.Lock(), threading.Event()
    for till in tills:
        till.stop, till.results, till.lock = stop, results, lock
    threads = [threading.Thread(target=till.run) for till in tills]
    servers, databases = gunicorn_pids(server.pid), postgres_pids()
    before = (cpu_seconds(servers), cpu_seconds(databases))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(servers) - before[0]
    database_cpu = cpu_seconds(databases) - before[1]
    if not results:
        sys.exit("No request completed: see the errors above.")
    latencies = [r[2] * 1000 for r in results]
    errors = [r for r in results if r[1] not in (200, 201)]
    return {
        "requests": len(results), "requests_per_s": len(results) / elapsed,
        "kinds": Counter(r[0] for r in results),
        "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 0.99),
        "server_ms": server_cpu * 1000 / len(results),
        "database_ms": database_cpu * 1000 / len(results),
        "errors": len(errors), "error_kinds": Counter((r[0], r[1]) for r in errors),
        "error_sample": [r[3].decode(errors="replace") for r in errors[:3]],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tills", type=int, default=16)
    parser.add_argument("--duration", type=float, default=25.0, help="seconds of timed load")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load not timed")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/loyalty_bench_api")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "JOBS_INLINE": "1",
           "RATELIMIT_KEY_PREFIX": "bench-" + uuid.uuid4().hex,
           "API_RATE_LIMIT": "100000 per second"}
    print(f"Preparing a fresh database at {args.database_url} ...", flush=True)
    recreate_database(args.database_url)
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    seeded = in_app(env, SEED.format(cards=CARDS, tills=args.tills))
    server = start_gunicorn("wsgi:app", args.port, args.workers, env, ROOT)
    try:
        tills = [Till(args.port, i, seeded["keys"][i], seeded["numbers"])
                 for i in range(args.tills)]
        print(f"{args.tills} tills (one API key each), gunicorn {args.workers} sync workers,"
              f" {os.cpu_count()} cores (load client, gunicorn and PostgreSQL share them);"
              f" {args.warmup:.0f} s warm-up, then {args.duration:.0f} s timed", flush=True)
        load(tills, args.warmup, server)
        run = load(tills, args.duration, server)
    finally:
        server.terminate()
        server.wait()

    cpu = run["server_ms"] + run["database_ms"]
    kinds = ", ".join(f"{count} {kind}s" for kind, count in sorted(run["kinds"].items()))
    print(f"{run['requests']} HTTP requests ({kinds}): {run['requests_per_s']:.0f} requests/s,"
          f" p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms; server CPU per request"
          f" {cpu:.1f} ms (gunicorn {run['server_ms']:.1f}, PostgreSQL {run['database_ms']:.1f});"
          f" errors {run['errors']}", flush=True)
    if run["errors"]:
        print("errors by kind and status:", dict(run["error_kinds"]))
        for sample in run["error_sample"]:
            print("  e.g.", sample)
    check = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "loyalty", "check-ledger"],
                           cwd=ROOT, env=env, text=True, capture_output=True)
    print("check-ledger:", (check.stdout + check.stderr).strip())
    orders = in_app(env, ORDERS_CHECK)
    print(f"orders: {orders['orders']} credited, {orders['refunds']} refund rows;"
          f" {len(orders['bad'])} refunded past their amount or their points", flush=True)
    for row in orders["bad"][:5]:
        print("  order", row)
    ledger = "clean" if check.returncode == 0 and not orders["bad"] else "drift"
    drop_database(args.database_url)
    print(f"RESULT cpu_ms_per_request={cpu:.1f} requests_per_s={run['requests_per_s']:.0f}"
          f" errors={run['errors']} ledger={ledger}")
    sys.exit(1 if run["errors"] or ledger != "clean" else 0)


if __name__ == "__main__":
    main()
