"""The whole platform at scale on PostgreSQL: 2,000 merchants, 2,000,000 cards, 20,000,000 rows.

    .venv/bin/python bench/platform_scale.py              # seeds once, then reuses the database
    .venv/bin/python bench/platform_scale.py --fresh      # rebuild it
    .venv/bin/python bench/platform_scale.py --scale 0.1  # a tenth of everything (own database)

Seeds ``loyalty_scale`` on the local server (``bench/scale_seed.py``: ``flask db upgrade``, then
COPY of generated rows over two years, one merchant with a tenth of the ledger, most with a few
thousand rows; balances equal the ledger's sums) unless it already holds the same seed version
and plan. Then measures, in process through the app (the server's own time) unless said:

- the counter: ``bench/terminal_load.py``'s terminals against gunicorn on the largest merchant,
  server CPU per request (finds and actions), compared with the same short run on its own small
  database (target: within 10 %);
- the largest merchant's statistics page and retention page (the page with the day's figures
  kept, what owners see and what RESULT carries, and the first computation of the day, what
  the morning pays), target 300 ms;
- card search on the largest merchant by name, card number and phone (the slowest in RESULT),
  target 50 ms;
- the admin dashboard and program list, target 500 ms;
- a cards export of the largest merchant, growth of peak resident memory in a fresh process,
  target 50 MB;
- one morning for every merchant, queued as the hourly schedule queues them
  (``mornings.start_due_mornings``, in batches) and worked by two RQ workers (``worker.py``
  on Redis db 8, started and idle first): time until every job has finished, target 120 s. On a reused
  database the points already expired stay expired: the first run after seeding has the most
  work (it prints how many cards it expired);
- ``flask loyalty check-ledger``.

Ends with ``RESULT terminal_cpu_ms=<x> stats_ms=<x> retention_ms=<x> search_ms=<x>
dashboard_ms=<x> program_list_ms=<x> export_peak_mb=<x> morning_s=<x> ledger=clean|drift``.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import scale_seed
from harness import (
    VENV_BIN,
    inprocess_app,
    recreate_database,
    signed_in_client,
    start_gunicorn,
    timed_gets,
)
from merchant_stats import _status_kb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/loyalty_scale"
REDIS_URL = "redis://127.0.0.1:6379/8"
LARGEST = 1  # merchant 1 holds the most rows
PORT = 5079


def env_for(url, redis_url):
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url,
            "SECRET_KEY": "bench-" + uuid.uuid4().hex, "RATELIMIT_KEY_PREFIX": "scale-"
            + uuid.uuid4().hex, "PYTHONPATH": str(ROOT)}


def flask(env, *args):
    return subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          text=True, capture_output=True)


def prepare(url, plan, fresh, env):
    seeded = scale_seed.seeded_version(url)
    wanted = (scale_seed.SEED_VERSION, repr(plan))
    if not fresh and seeded == wanted:
        print(f"Reusing {url} (seed version {seeded[0]}, {plan}).", flush=True)
        migrated = flask(env, "db", "upgrade")  # indexes added since the seed
        assert migrated.returncode == 0, migrated.stderr
        if not scale_seed.is_clustered(url):  # seeded before the seed clustered the ledger
            with psycopg.connect(url, autocommit=True) as conn:
                scale_seed.cluster_ledger(conn.cursor(), lambda line: print(line, flush=True))
        return None
    print(f"Seeding {url} afresh: {plan} ...", flush=True)
    recreate_database(url)
    migrated = flask(env, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    summary = scale_seed.seed(url, plan, log=lambda line: print(line, flush=True))
    print(f"Seeded {summary['merchants']:,} merchants, {summary['cards']:,} cards and "
          f"{summary['rows']:,} ledger rows (the largest merchant {summary['largest_rows']:,}) in "
          f"{summary['total_s']:.0f} s: COPY {summary['copy_s']:.0f} s, indexes "
          f"{summary['index_s']:.0f} s, ANALYZE {summary['analyze_s']:.0f} s.", flush=True)
    return summary


def median_of(client, url, runs=5, **kwargs):
    timings = timed_gets(client, url, runs + 1, **kwargs)[1:]  # the first warms caches
    return statistics.median(timings), timings


def _runs(timings):
    return ", ".join(f"{t:.0f}" for t in timings)


def owner_pages(app, number, phone):
    from sqlalchemy import delete  # noqa: PLC0415 - after sys.path

    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.models import RetentionSnapshot  # noqa: PLC0415
    from loyalty.services.merchant import retention_snapshots  # noqa: PLC0415

    figures = {}
    with app.app_context():
        cold = []
        for _ in range(2):
            db.session.execute(delete(RetentionSnapshot).where(
                RetentionSnapshot.merchant_id == LARGEST))
            db.session.commit()
            started = time.perf_counter()
            retention_snapshots.morning(LARGEST)
            db.session.commit()
            cold.append((time.perf_counter() - started) * 1000)
        figures["retention_first"] = (statistics.median(cold), cold)
        client = signed_in_client(app, scale_seed.owner_email(LARGEST), scale_seed.PASSWORD)
        figures["stats"] = median_of(client, "/merchant/stats")
        figures["retention"] = median_of(client, "/merchant/retention")
        for kind, query in (("name", "schmit"), ("number", number), ("phone", phone),
                            ("number part", number[-4:])):
            figures[f"search {kind}"] = median_of(client, "/merchant/cards",
                                                  query_string={"q": query})
    return figures


def admin_pages(app):
    with app.app_context():
        client = signed_in_client(app, scale_seed.ADMIN, scale_seed.PASSWORD)
        [first] = timed_gets(client, "/admin/", 1)
        return {"dashboard_first": first, "dashboard": median_of(client, "/admin/"),
                "programs": median_of(client, "/admin/programs",
                                      query_string={"sort": "liability"})}


def measure_export(url):
    """Runs in a fresh process: peak resident memory growth while the cards CSV streams."""
    app = inprocess_app(url)
    with app.app_context():
        client = signed_in_client(app, scale_seed.owner_email(LARGEST), scale_seed.PASSWORD)
        client.get("/merchant/exports")  # everything imported and warm
        baseline = _status_kb("VmRSS")
        started = time.perf_counter()
        response = client.get("/merchant/exports/cards.csv", buffered=False)
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        seconds = time.perf_counter() - started
        peak = _status_kb("VmHWM")
    print(json.dumps({"growth_mb": (peak - baseline) / 1024, "rows": lines - 1,
                      "mb": size / 1024 / 1024, "seconds": seconds}))


def terminal_cpu(env, numbers, duration):
    """Server CPU per request of ``terminal_load``'s 16 terminals on the largest merchant."""
    import terminal_load  # noqa: PLC0415

    server = start_gunicorn("wsgi:app", PORT, 3, {**env, "JOBS_INLINE": "1"}, ROOT)
    try:
        terminals = [terminal_load.TerminalClient(PORT, i, numbers, None, None, None, None)
                     for i in range(scale_seed.TERMINALS)]
        for terminal in terminals:
            terminal.sign_in()
        run = terminal_load.load_run(argparse.Namespace(duration=duration), PORT, terminals,
                                     server)
    finally:
        server.terminate()
        server.wait()
    return run


def small_terminal_cpu(url, redis_url, duration):
    """The same short run on terminal_load's own small database (300 cards)."""
    small = url.rsplit("/", 1)[0] + "/loyalty_scale_small"
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "terminal_load.py"), "--runs", "1",
                          "--duration", str(duration), "--database-url", small, "--redis-url",
                          redis_url, "--port", str(PORT + 1)], cwd=ROOT, text=True,
                         capture_output=True)
    found = re.search(r"cpu_ms_per_request=([\d.]+)", out.stdout)
    return float(found.group(1)) if found else None


def morning(url, env, workers=2, limit=900):
    """Every merchant's morning on ``workers`` RQ workers, queued as the hourly schedule does
    (``mornings.start_due_mornings`` at 05:00 on the merchants' clock) once the workers are
    up: seconds until every job has finished."""
    from datetime import datetime  # noqa: PLC0415
    from datetime import time as day_time
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from redis import Redis  # noqa: PLC0415
    from rq import Queue, Worker  # noqa: PLC0415
    from rq.registry import FailedJobRegistry, FinishedJobRegistry  # noqa: PLC0415
    from sqlalchemy import text  # noqa: PLC0415

    from loyalty import create_app  # noqa: PLC0415
    from loyalty.extensions import db  # noqa: PLC0415
    from loyalty.jobs.points import merchant_morning  # noqa: PLC0415
    from loyalty.services.delivery.mornings import (  # noqa: PLC0415
        MORNING_BATCH,
        start_due_mornings,
    )

    redis = Redis.from_url(env["REDIS_URL"])
    redis.flushdb()  # Redis db 8 is this benchmark's own
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://", 1),
                      "REDIS_URL": env["REDIS_URL"], "JOBS_INLINE": False,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    count_expired = text("SELECT count(*) FROM loyalty_transactions "
                         "WHERE transaction_type = 'points_expired'")
    luxembourg = ZoneInfo("Europe/Luxembourg")
    five = datetime.combine(datetime.now(luxembourg).date(), day_time(5), luxembourg)
    # the workers are up and idle first, as in production: their start is not the morning's
    processes = [subprocess.Popen([sys.executable, "worker.py", "default"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(workers)]
    try:
        deadline = time.monotonic() + 180
        while len(Worker.all(connection=redis)) < workers and time.monotonic() < deadline:
            time.sleep(0.2)
        with app.app_context():
            expired_before = db.session.scalar(count_expired)
            queue = Queue("default", connection=redis)
            started = time.perf_counter()
            started_ids = start_due_mornings(merchant_morning, now=five)
            db.session.commit()
            jobs = -(-len(started_ids) // MORNING_BATCH)  # the workers may have taken some
            finished, failed = FinishedJobRegistry(queue=queue), FailedJobRegistry(queue=queue)
            while finished.count + failed.count < jobs and time.perf_counter() - started < limit:
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            failed = failed.count
            unfinished = jobs - finished.count - failed
            expired = db.session.scalar(count_expired) - expired_before
            warned = db.session.scalar(text("SELECT count(*) FROM loyalty_cards "
                                            "WHERE expiry_warned_for IS NOT NULL"))
            db.session.rollback()
            db.engine.dispose()
    finally:
        for process in processes:
            process.terminate()
        errors = [process.communicate()[1] for process in processes]
    redis.flushdb()
    if failed:
        print("Failed mornings; a worker's last lines:", errors[0][-2000:])
    return {"seconds": seconds, "merchants": len(started_ids), "jobs": jobs, "failed": failed,
            "unfinished": unfinished,
            "expired": expired, "warned": warned}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--fresh", action="store_true", help="rebuild the seeded database")
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of the platform")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of terminal load")
    parser.add_argument("--morning-limit", type=float, default=900,
                        help="seconds to wait for the mornings")
    parser.add_argument("--skip", default="", help="comma-separated: terminal,small,morning")
    parser.add_argument("--export-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_only:
        measure_export(args.export_only)
        return
    plan = scale_seed.Plan() if args.scale == 1 else scale_seed.Plan().scaled(args.scale)
    url = args.database_url or (DEFAULT_URL if args.scale == 1
                                else f"{DEFAULT_URL}_{str(args.scale).replace('.', '_')}")
    skip = set(filter(None, args.skip.split(",")))
    env = env_for(url, args.redis_url)
    prepare(url, plan, args.fresh, env)
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    app = inprocess_app(sa_url)
    with app.app_context():
        from sqlalchemy import text  # noqa: PLC0415

        from loyalty.extensions import db  # noqa: PLC0415

        numbers = db.session.scalars(text(
            "SELECT card_number FROM loyalty_cards WHERE merchant_id = :m ORDER BY id LIMIT 300"),
            {"m": LARGEST}).all()
        number, phone = db.session.execute(text(
            "SELECT card_number, phone FROM loyalty_cards c JOIN customers u ON u.id = c.customer_id "
            "WHERE c.merchant_id = :m AND u.phone IS NOT NULL ORDER BY c.id DESC LIMIT 1"),
            {"m": LARGEST}).one()
        db.session.rollback()
    pages = owner_pages(app, number, phone)
    stats_ms, retention_ms = pages["stats"][0], pages["retention"][0]
    print(f"Largest merchant's statistics page: median {stats_ms:.0f} ms "
          f"({_runs(pages['stats'][1])} ms); target 300 ms.")
    print(f"Its retention page with the day's figures kept (what owners see; in RESULT): median "
          f"{retention_ms:.0f} ms ({_runs(pages['retention'][1])} ms); target 300 ms. The first "
          f"computation of the day (the morning's, once): median "
          f"{pages['retention_first'][0]:.0f} ms ({_runs(pages['retention_first'][1])} ms).")
    searches = {k.split(" ", 1)[1]: v for k, v in pages.items() if k.startswith("search")}
    search_ms = max(v[0] for v in searches.values())
    print("Card search on the largest merchant, median of 5: " + "; ".join(
        f"{kind} {v[0]:.0f} ms" for kind, v in searches.items())
        + f"; the slowest in RESULT; target 50 ms (number '{number}', phone '{phone}').")
    admin = admin_pages(app)
    dashboard_ms, programs_ms = admin["dashboard"][0], admin["programs"][0]
    print(f"Admin dashboard: first request {admin['dashboard_first']:.0f} ms (sums the closed "
          f"days not yet summed), then median {dashboard_ms:.0f} ms "
          f"({_runs(admin['dashboard'][1])} ms); program list by liability: median "
          f"{programs_ms:.0f} ms ({_runs(admin['programs'][1])} ms); target 500 ms.", flush=True)
    with app.app_context():
        db.engine.dispose()
    child = subprocess.run([sys.executable, __file__, "--export-only", sa_url], capture_output=True,
                           text=True, env=env)
    if child.returncode:
        sys.exit(child.stderr[-3000:])
    export = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"Cards export of the largest merchant: {export['rows']:,} rows, {export['mb']:.0f} MB "
          f"of CSV in {export['seconds']:.1f} s; peak memory grew by {export['growth_mb']:.1f} MB "
          f"(target 50 MB).", flush=True)
    terminal_ms = float("nan")
    if "terminal" not in skip:
        run = terminal_cpu(env, numbers, args.duration)
        terminal_ms = run["server_ms"] + run["database_ms"]
        small = None if "small" in skip else small_terminal_cpu(url, args.redis_url,
                                                                args.duration)
        versus = (f"; on terminal_load's small database the same run costs {small:.1f} ms "
                  f"({(terminal_ms / small - 1) * 100:+.0f} %; target within 10 %)"
                  if small else "")
        print(f"Counter, {scale_seed.TERMINALS} terminals on the largest merchant for "
              f"{args.duration:.0f} s: {run['requests_per_s']:.0f} requests/s, server CPU "
              f"{terminal_ms:.1f} ms per request (gunicorn {run['server_ms']:.1f}, PostgreSQL "
              f"{run['database_ms']:.1f}), p50 {run['p50_ms']:.1f} ms, errors {run['errors']}"
              f"{versus}.", flush=True)
    morning_s = float("nan")
    if "morning" not in skip:
        done = morning(url, env, limit=args.morning_limit)
        morning_s = done["seconds"]
        print(f"One morning for all {done['merchants']:,} merchants ({done['jobs']} jobs, as the "
              f"schedule batches them) on two RQ workers: "
              f"{morning_s:.0f} s (target 120 s); {done['expired']:,} cards' points expired, "
              f"{done['warned']:,} cards warned so far, {done['failed']} failed jobs, "
              f"{done['unfinished']} unfinished after {args.morning_limit:.0f} s.", flush=True)
    started = time.perf_counter()
    check = flask(env, "loyalty", "check-ledger")
    ledger = "clean" if check.returncode == 0 else "drift"
    print(f"check-ledger ({time.perf_counter() - started:.0f} s): "
          f"{(check.stdout + check.stderr).strip()[:500]}")
    print(f"RESULT terminal_cpu_ms={terminal_ms:.1f} stats_ms={stats_ms:.0f} "
          f"retention_ms={retention_ms:.0f} search_ms={search_ms:.0f} "
          f"dashboard_ms={dashboard_ms:.0f} program_list_ms={programs_ms:.0f} "
          f"export_peak_mb={export['growth_mb']:.1f} morning_s={morning_s:.0f} ledger={ledger}")


if __name__ == "__main__":
    main()
