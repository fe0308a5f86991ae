"""Load benchmark: N simulated counter terminals against gunicorn on PostgreSQL.

    .venv/bin/python bench/terminal_load.py                 # 16 terminals, 3 runs of 20 s
    .venv/bin/python bench/terminal_load.py --pin           # every action with a staff PIN

Creates a fresh PostgreSQL database (``--database-url``, default the local server's
``loyalty_bench``), migrates it, seeds one merchant with a hybrid program, 16 staff members and
300 cards, starts gunicorn (whose ``gunicorn.conf.py`` warms each worker), and lets each
terminal sign in, then loop: find a card by number (as a scan does), then add a stamp, earn
points for a purchase or redeem a reward, with a session cookie, the CSRF header and an
idempotency key, as the browser sends them. Each run prints HTTP requests per second (finds and
actions), ledger actions per second, p50/p99 latency, errors, and the CPU each request cost
gunicorn and PostgreSQL; the runs' medians follow, then the SQL statements and transactions a
find and an action issue (counted in-process over a sample of the same mix) and
``flask loyalty check-ledger``. With ``--pin`` the server's CPU per action is compared to one
bcrypt check at the PIN cost, to show that an action costs one check, not one per staff member.
The last line is machine-readable:

    RESULT cpu_ms_per_request=<x> requests_per_s=<x> actions_per_s=<x> p50_ms=<x> p99_ms=<x>
           errors=<n> ledger=clean|drift
"""
import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import bcrypt
from harness import (
    VENV_BIN,
    Browser,
    cpu_seconds,
    gunicorn_pids,
    percentile,
    postgres_pids,
    recreate_database,
    start_gunicorn,
)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-123"
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
FORM_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CARD_ID = re.compile(r'data-card-id="(\d+)"')
REWARD = re.compile(r"sheet/redeem\?reward_id=(\d+)")
STAFF_PINS = 16
#: The app's default PIN_BCRYPT_ROUNDS: staff PINs are hashed at cost 10.
PIN_ROUNDS = 10


SEED = """
from loyalty.extensions import db
from loyalty.models import Role
from loyalty.services.engine import cards, staff_pins
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.points import earn_points
import json, sys
pin_on = sys.argv[1] == "on"
merchant = accounts.create_merchant("Bench Cafe", "bench-cafe")
store = accounts.create_store(merchant, "Counter", "C1")
for i in range({terminals}):
    user = accounts.register_user(f"terminal{{i}}@bench.example.com", "{password}", f"Terminal {{i}}")
    accounts.add_member(user, merchant, Role.STORE_STAFF, store=store)
program = programs.create_program(merchant, "hybrid", "Bench card", stamps_target=10,
    cooldown_minutes=0, max_stamps_per_day=1000000, points_per_euro=10, require_staff_pin=False)
for name, cost in [("Coffee", 50), ("Cake", 150), ("Lunch", 600)]:
    programs.add_reward(program, name, cost)
pins = []
for i in range({pins}):
    pins.append(staff_pins.create_staff_pin(merchant, store, f"Staff {{i}}", f"{{4000 + i}}").id)
numbers = []
for i in range(300):
    card = cards.enroll_customer(merchant, name=f"Customer {{i}}", email=f"c{{i}}@bench.example.com",
                                 context=ActionContext(store_id=store.id))
    earn_points(card, 2000, context=ActionContext(store_id=store.id))
    numbers.append(card.card_number)
programs.update_program(program, require_staff_pin=pin_on)
print(json.dumps({{"numbers": numbers, "pins": pins}}))
"""


def flask(env, *args, capture=False):
    return subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          check=True, text=True, capture_output=capture)


def seed(env, terminals, pin_on):
    code = SEED.format(terminals=terminals, password=PASSWORD, pins=STAFF_PINS)
    runner = ("from wsgi import app\nimport sys\nwith app.app_context():\n"
              + "\n".join("    " + line for line in code.strip().splitlines()))
    out = subprocess.run([sys.executable, "-c", runner, "on" if pin_on else "off"], cwd=ROOT,
                         env=env, check=True, text=True, capture_output=True).stdout
    import json  # noqa: PLC0415
    return json.loads(out.strip().splitlines()[-1])


class TerminalClient:
    def __init__(self, port, index, numbers, pin, stop, results, lock):
        self.client = Browser(port)
        self.index, self.numbers, self.pin = index, numbers, pin
        self.stop, self.results, self.lock = stop, results, lock
        self.rng = random.Random(index)

    def sign_in(self):
        page = self.client.get("/login")
        token = FORM_CSRF.search(page.text).group(1)
        response = self.client.post("/login", data={
            "email": f"terminal{self.index}@bench.example.com", "password": PASSWORD, "csrf_token": token})
        assert response.status == 302, response.text[:300]
        terminal = self.client.get("/terminal/")
        assert terminal.status == 200, terminal.status
        self.headers = {"HX-Request": "true", "X-CSRFToken": CSRF.search(terminal.text).group(1)}

    def timed(self, kind, method, url, **kwargs):
        started = time.perf_counter()
        response = self.client.request(method, url, headers=self.headers, **kwargs)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.results.append((kind, response.status, elapsed))
        return response

    def run(self):
        while not self.stop.is_set():
            number = self.rng.choice(self.numbers)
            panel = self.timed("find", "GET", "/terminal/find", params={"q": number})
            card_id = CARD_ID.search(panel.text).group(1)
            data = {"idempotency_key": uuid.uuid4().hex}
            if self.pin:
                data.update(self.pin)
            roll = self.rng.random()
            rewards = REWARD.findall(panel.text)
            if roll < 0.2 and rewards:
                data["reward_id"] = rewards[0]
                self.timed("redeem", "POST", f"/terminal/cards/{card_id}/redeem", data=data)
            elif roll < 0.6:
                self.timed("stamp", "POST", f"/terminal/cards/{card_id}/stamp", data=data)
            else:
                data["amount"] = f"{self.rng.randint(150, 4000) / 100:.2f}"
                self.timed("earn", "POST", f"/terminal/cards/{card_id}/earn", data=data)


def load_run(args, port, terminals, server):
    """One timed window of load; returns its figures."""
    results, lock, stop = [], threading.Lock(), threading.Event()
    for terminal in terminals:
        terminal.stop, terminal.results, terminal.lock = stop, results, lock
    threads = [threading.Thread(target=t.run) for t in terminals]
    servers, databases = gunicorn_pids(server.pid), postgres_pids()
    cpu_before = (cpu_seconds(servers), cpu_seconds(databases))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(servers) - cpu_before[0]
    database_cpu = cpu_seconds(databases) - cpu_before[1]
    if not results:
        sys.exit("No request completed: see the errors above.")
    latencies = [r[2] * 1000 for r in results]
    errors = [r for r in results if r[1] >= 500 or r[1] in (400, 401, 403, 404, 422, 423, 429)]
    actions = [r for r in results if r[0] != "find" and r[1] == 200]
    return {
        "requests": len(results), "elapsed": elapsed,
        "requests_per_s": len(results) / elapsed, "actions_per_s": len(actions) / elapsed,
        "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies), "errors": len(errors),
        "refusals": sum(1 for r in results if r[1] == 409),
        "server_ms": server_cpu * 1000 / len(results),
        "database_ms": database_cpu * 1000 / len(results),
        "server_ms_per_action": server_cpu * 1000 / max(1, len(actions)),
    }


SAMPLE = """
import re, uuid, random, sys, json
from sqlalchemy import event
from wsgi import app
from loyalty.extensions import db
numbers = json.loads(sys.argv[1])
counts = {"find": [0, 0, 0], "act": [0, 0, 0]}
current = [None]
with app.app_context():
    engine = db.engine
@event.listens_for(engine, "before_cursor_execute")
def _statement(*args):
    if current[0]:
        counts[current[0]][1] += 1
@event.listens_for(engine, "begin")
def _begin(*args):
    if current[0]:
        counts[current[0]][2] += 1
client = app.test_client()
page = client.get("/login")
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
client.post("/login", data={"email": "terminal0@bench.example.com", "password": sys.argv[2],
                            "csrf_token": token})
headers = {"HX-Request": "true",
           "X-CSRFToken": re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/terminal/").text).group(1)}
rng = random.Random(7)
for n in range(60):
    current[0] = "find"; counts["find"][0] += 1
    panel = client.get("/terminal/find", query_string={"q": rng.choice(numbers)}, headers=headers)
    card = re.search(r'data-card-id="(\\d+)"', panel.text).group(1)
    current[0] = "act"; counts["act"][0] += 1
    data = {"idempotency_key": uuid.uuid4().hex}
    kind = ("stamp", "earn")[n % 2]
    if kind == "earn":
        data["amount"] = "12.50"
    assert client.post(f"/terminal/cards/{card}/{kind}", data=data, headers=headers).status_code == 200
    current[0] = None
print(json.dumps(counts))
"""


def sample_statements(env, numbers):
    """Statements and transactions per find and per action, counted in-process (SQLAlchemy
    events) over 60 finds and 60 stamps or purchases of the load's mix, on the same database."""
    import json  # noqa: PLC0415
    out = subprocess.run([sys.executable, "-c", SAMPLE, json.dumps(numbers[:50]), PASSWORD],
                         cwd=ROOT, env=env, check=True, text=True, capture_output=True).stdout
    counts = json.loads(out.strip().splitlines()[-1])
    return {kind: (statements / n, transactions / n) for kind, (n, statements, transactions)
            in counts.items()}


def one_bcrypt_check_ms():
    hashed = bcrypt.hashpw(b"4000", bcrypt.gensalt(PIN_ROUNDS))
    started = time.process_time()
    for _ in range(5):
        bcrypt.checkpw(b"4000", hashed)
    return (time.process_time() - started) / 5 * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terminals", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per run")
    parser.add_argument("--runs", type=int, default=3, help="timed runs; medians are reported")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--pin", action="store_true", help="programs require a staff PIN")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/loyalty_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "JOBS_INLINE": "1",
           "RATELIMIT_KEY_PREFIX": "bench-" + uuid.uuid4().hex}
    print(f"Preparing a fresh database at {args.database_url} ...", flush=True)
    recreate_database(args.database_url)
    flask(env, "db", "upgrade", capture=True)
    seeded = seed(env, args.terminals, args.pin)
    server = start_gunicorn("wsgi:app", args.port, args.workers, env, ROOT)
    runs = []
    try:
        pins = seeded["pins"]
        terminals = [
            TerminalClient(args.port, i, seeded["numbers"],
                           {"staff_pin_id": pins[i % len(pins)], "pin": str(4000 + i % len(pins))}
                           if args.pin else None, None, None, None)
            for i in range(args.terminals)
        ]
        for terminal in terminals:  # signing in (a bcrypt check each) is not what is measured
            terminal.sign_in()
        print(f"{args.terminals} terminals, gunicorn {args.workers} sync workers,"
              f" PIN {'on' if args.pin else 'off'}, {os.cpu_count()} cores (load client,"
              f" gunicorn and PostgreSQL share them), {args.runs} runs of {args.duration:.0f} s",
              flush=True)
        for number in range(1, args.runs + 1):
            run = load_run(args, args.port, terminals, server)
            runs.append(run)
            print(f"run {number}: {run['requests_per_s']:.0f} HTTP requests/s (finds and actions),"
                  f" {run['actions_per_s']:.0f} ledger actions/s, p50 {run['p50_ms']:.1f} ms,"
                  f" p99 {run['p99_ms']:.1f} ms, max {run['max_ms']:.0f} ms;"
                  f" server CPU per request {run['server_ms'] + run['database_ms']:.1f} ms"
                  f" (gunicorn {run['server_ms']:.1f}, PostgreSQL {run['database_ms']:.1f});"
                  f" errors {run['errors']}, refusals (409) {run['refusals']}", flush=True)
    finally:
        server.terminate()
        server.wait()

    def median(key):
        return statistics.median(run[key] for run in runs)

    cpu = statistics.median(run["server_ms"] + run["database_ms"] for run in runs)
    errors = sum(run["errors"] for run in runs)
    print(f"\nmedian of {len(runs)} runs: server CPU {cpu:.1f} ms per HTTP request"
          f" (gunicorn {median('server_ms'):.1f} + PostgreSQL {median('database_ms'):.1f}),"
          f" {median('requests_per_s'):.0f} HTTP requests/s, {median('actions_per_s'):.0f} ledger"
          f" actions/s, p50 {median('p50_ms'):.1f} ms, p99 {median('p99_ms'):.1f} ms; errors {errors}")
    if args.pin:
        check = one_bcrypt_check_ms()
        per_action = median("server_ms_per_action")
        print(f"with the PIN: gunicorn CPU per ledger action {per_action:.0f} ms (its find included);"
              f" one bcrypt check at cost {PIN_ROUNDS} takes {check:.0f} ms -> about"
              f" {per_action / check:.2f} checks' worth per action ({STAFF_PINS} PINs at the store)")
    else:
        counted = sample_statements(env, seeded["numbers"])
        print("SQL per request (in-process sample of the same mix): a find issues"
              f" {counted['find'][0]:.1f} statements in {counted['find'][1]:.1f} transaction(s),"
              f" a stamp or purchase {counted['act'][0]:.1f} statements in"
              f" {counted['act'][1]:.1f} transaction(s)")
    check = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "loyalty", "check-ledger"],
                           cwd=ROOT, env=env, text=True, capture_output=True)
    print("check-ledger:", (check.stdout + check.stderr).strip())
    ledger = "clean" if check.returncode == 0 else "drift"
    print(f"RESULT cpu_ms_per_request={cpu:.1f} requests_per_s={median('requests_per_s'):.0f}"
          f" actions_per_s={median('actions_per_s'):.0f} p50_ms={median('p50_ms'):.1f}"
          f" p99_ms={median('p99_ms'):.1f} errors={errors} ledger={ledger}")
    sys.exit(1 if errors or check.returncode else 0)


if __name__ == "__main__":
    main()
