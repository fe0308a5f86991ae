"""What this machine's stack costs before the app adds anything: the floor under
terminal_load.py's figures.

    .venv/bin/python bench/stack_floor.py

Serves bench/floor_app.py (Flask + plain psycopg 3, one connection per gunicorn sync worker,
the same PostgreSQL, no ORM, sign-in, CSRF or templates) and drives it with the same
closed-loop clients as terminal_load.py, 16 of them for 10 s per kind of request: an empty
answer, a primary-key SELECT, and a stamp written in one statement (card UPDATE + ledger
INSERT). It prints HTTP requests per second, p50/p99 and the CPU each request cost gunicorn and
PostgreSQL, measured as terminal_load.py measures it, and ends with

    RESULT floor_empty_cpu_ms=<x> floor_find_cpu_ms=<x> floor_stamp_cpu_ms=<x>
"""
import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
from harness import (
    Browser,
    cpu_seconds,
    gunicorn_pids,
    percentile,
    postgres_pids,
    recreate_database,
    start_gunicorn,
)

HERE = Path(__file__).resolve().parent
CARDS = 300


def prepare(url):
    recreate_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE floor_cards (id serial PRIMARY KEY, label text NOT NULL,"
                     " stamps integer NOT NULL DEFAULT 0)")
        conn.execute("CREATE TABLE floor_ledger (id bigserial PRIMARY KEY,"
                     " card_id integer NOT NULL REFERENCES floor_cards,"
                     " stamps_after integer NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO floor_cards (label) SELECT 'Card ' || n"
                     f" FROM generate_series(1, {CARDS}) AS n")


def drive(port, clients, duration, method, path_for):
    latencies, lock, stop = [], threading.Lock(), threading.Event()

    def client(seed):
        browser, mine, rng = Browser(port), [], random.Random(seed)
        while not stop.is_set():
            started = time.perf_counter()
            assert browser.request(method, path_for(rng)).status == 200
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    return latencies


KINDS = {
    "empty": ("GET", lambda rng: "/"),
    "find": ("GET", lambda rng: f"/find/{rng.randint(1, CARDS)}"),
    "stamp": ("POST", lambda rng: f"/stamp/{rng.randint(1, CARDS)}"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per kind")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/loyalty_floor")
    args = parser.parse_args()
    prepare(args.database_url)
    print(f"{args.clients} closed-loop clients, gunicorn {args.workers} sync workers,"
          f" {os.cpu_count()} cores shared with PostgreSQL and the clients")
    env = {**os.environ, "FLOOR_DATABASE_URL": args.database_url}
    server = start_gunicorn("floor_app:app", args.port, args.workers, env, HERE)
    figures = {}
    try:
        for kind, (method, path_for) in KINDS.items():
            servers, databases = gunicorn_pids(server.pid), postgres_pids()
            before = cpu_seconds(servers), cpu_seconds(databases)
            latencies = drive(args.port, args.clients, args.duration, method, path_for)
            server_ms = (cpu_seconds(servers) - before[0]) * 1000 / len(latencies)
            database_ms = (cpu_seconds(databases) - before[1]) * 1000 / len(latencies)
            ms = [value * 1000 for value in latencies]
            figures[kind] = server_ms + database_ms
            print(f"{kind:>5}: {len(ms) / args.duration:6.0f} HTTP requests/s,"
                  f" p50 {statistics.median(ms):5.1f} ms, p99 {percentile(ms, 0.99):5.1f} ms;"
                  f" server CPU per request {server_ms + database_ms:.2f} ms"
                  f" (gunicorn {server_ms:.2f}, PostgreSQL {database_ms:.2f})")
    finally:
        server.terminate()
        server.wait()
    print(f"RESULT floor_empty_cpu_ms={figures['empty']:.2f} floor_find_cpu_ms={figures['find']:.2f}"
          f" floor_stamp_cpu_ms={figures['stamp']:.2f}")
    sys.exit(0)


if __name__ == "__main__":
    main()
