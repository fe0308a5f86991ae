"""Load benchmark: N simulated counter terminals against gunicorn on PostgreSQL.

    .venv/bin/python bench/terminal_load.py --terminals 16 --duration 30
    .venv/bin/python bench/terminal_load.py --terminals 16 --duration 30 --pin

Creates a fresh PostgreSQL database (``--database-url``, default the local server's
``loyalty_bench``), migrates it, seeds one merchant with a hybrid program, 16 staff members and
300 cards, starts gunicorn, and lets each terminal sign in, then loop: find a card by number
(as a scan does), then add a stamp, earn points for a purchase or redeem a reward, with a
session cookie, the CSRF header and an idempotency key, as the browser sends them. It prints
requests and actions per second, p50/p99 latency, errors, and runs ``flask loyalty check-ledger``.
With ``--pin`` every action carries a staff PIN; the server's CPU time per action is compared to
one bcrypt check to show that an action costs one check, not one per staff member.
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


SEED = """
from loyalty.extensions import db
from loyalty.models import Role
from loyalty.services import accounts, cards, programs, staff_pins
from loyalty.services.ledger import ActionContext
from loyalty.services.points import earn_points
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terminals", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
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
    try:
        results, lock, stop = [], threading.Lock(), threading.Event()
        pins = seeded["pins"]
        terminals = [
            TerminalClient(args.port, i, seeded["numbers"],
                           {"staff_pin_id": pins[i % len(pins)], "pin": str(4000 + i % len(pins))}
                           if args.pin else None, stop, results, lock)
            for i in range(args.terminals)
        ]
        for terminal in terminals:  # signing in (a bcrypt check each) is not what is measured
            terminal.sign_in()
        threads = [threading.Thread(target=t.run) for t in terminals]
        servers, databases = gunicorn_pids(server.pid), postgres_pids()
        cpu_before = (cpu_seconds(servers), cpu_seconds(databases), time.process_time())
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_after = (cpu_seconds(servers), cpu_seconds(databases), time.process_time())
        cpu_used, db_cpu, client_cpu = (after - before for after, before in zip(cpu_after, cpu_before))
    finally:
        server.terminate()
        server.wait()

    if not results:
        sys.exit("No request completed: see the errors above.")
    latencies = [r[2] * 1000 for r in results]
    errors = [r for r in results if r[1] >= 500 or r[1] in (400, 401, 403, 404, 422, 423, 429)]
    refusals = [r for r in results if r[1] == 409]
    ledger_actions = [r for r in results if r[0] != "find" and r[1] == 200]
    print(f"\nterminals={args.terminals} gunicorn workers={args.workers} pin={'on' if args.pin else 'off'}"
          f" duration={elapsed:.1f}s")
    print(f"requests (find + act): {len(results)}  -> {len(results) / elapsed:.0f} actions/s")
    print(f"ledger-writing actions: {len(ledger_actions)} -> {len(ledger_actions) / elapsed:.0f}/s")
    print(f"latency p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms,"
          f" max {max(latencies):.1f} ms")
    print(f"errors: {len(errors)}  business refusals (409): {len(refusals)}")
    per_request = 1000 / len(results)
    print(f"CPU per request: gunicorn {cpu_used * per_request:.1f} ms, PostgreSQL {db_cpu * per_request:.1f} ms,"
          f" load client {client_cpu * per_request:.1f} ms; {os.cpu_count()} cores")
    if args.pin:
        salt = bcrypt.gensalt(12)
        hashed = bcrypt.hashpw(b"4000", salt)
        t0 = time.process_time()
        for _ in range(5):
            bcrypt.checkpw(b"4000", hashed)
        one_check = (time.process_time() - t0) / 5
        per_action = cpu_used / max(1, len(ledger_actions))
        print(f"server CPU per action {per_action * 1000:.0f} ms; one bcrypt check {one_check * 1000:.0f} ms"
              f" -> about {per_action / one_check:.2f} checks per action ({STAFF_PINS} PINs at the store)")
    check = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "loyalty", "check-ledger"],
                           cwd=ROOT, env=env, text=True, capture_output=True)
    print("check-ledger:", (check.stdout + check.stderr).strip())
    sys.exit(1 if errors or check.returncode else 0)


if __name__ == "__main__":
    main()
