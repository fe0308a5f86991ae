"""What this machine gives the fixed stack before the app adds anything: the ceiling under
terminal_load.py's figures.

    .venv/bin/python bench/stack_floor.py --clients 16 --duration 10

Serves bench/floor_app.py (Flask + Flask-SQLAlchemy + psycopg 3, gunicorn sync workers, the
same PostgreSQL) and drives it with the same closed-loop clients as terminal_load.py, for
requests issuing 0, 1, 5 and 10 primary-key SELECTs. A counter find costs 5 statements and an
action about 10, so these rows bound what the terminal can reach on this machine.
"""
import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

from harness import Browser, percentile, start_gunicorn
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent


def prepare(url):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS floor_rows"))
        conn.execute(text("CREATE TABLE floor_rows (id serial PRIMARY KEY, label text NOT NULL,"
                          " count integer NOT NULL)"))
        conn.execute(text("INSERT INTO floor_rows (label, count) SELECT 'row ' || n, n"
                          " FROM generate_series(1, 100) AS n"))
    engine.dispose()


def drive(port, clients, duration):
    latencies, lock, stop = [], threading.Lock(), threading.Event()

    def client():
        browser, mine = Browser(port), []
        while not stop.is_set():
            started = time.perf_counter()
            assert browser.get("/").status == 200
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=5078)
    parser.add_argument("--queries", default="0,1,5,10")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/loyalty_bench")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    prepare(url)
    print(f"{args.clients} closed-loop clients, gunicorn {args.workers} sync workers, {os.cpu_count()} cores")
    for queries in map(int, args.queries.split(",")):
        env = {**os.environ, "FLOOR_DATABASE_URL": url, "FLOOR_QUERIES": str(queries)}
        server = start_gunicorn("floor_app:app", args.port, args.workers, env, HERE)
        try:
            latencies = drive(args.port, args.clients, args.duration)
        finally:
            server.terminate()
            server.wait()
        ms = [value * 1000 for value in latencies]
        print(f"{queries:>2} SELECTs per request: {len(ms) / args.duration:6.0f} requests/s,"
              f" p50 {statistics.median(ms):5.1f} ms, p99 {percentile(ms, 0.99):5.1f} ms")
    sys.exit(0)


if __name__ == "__main__":
    main()
