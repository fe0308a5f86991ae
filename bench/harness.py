"""What the benchmarks share: a fresh database, a lean HTTP client with cookies, gunicorn
start-up, CPU accounting from /proc and percentiles.

The client is the standard library's ``http.client``: it costs the load generator a fraction
of what a full-featured client does, so the two cores go to the server under test.
"""
import http.client
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

VENV_BIN = Path(sys.executable).parent


@dataclass
class Response:
    status: int
    text: str


class Browser:
    """One tab: sends back the cookies it was given and reuses its connection while the server
    keeps it open (gunicorn's sync workers close it after each response; it reconnects)."""

    def __init__(self, port, host="127.0.0.1"):
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.cookies = {}

    def request(self, method, path, *, params=None, data=None, headers=None):
        if params:
            path = f"{path}?{urlencode(params)}"
        sent = dict(headers or {})
        body = None
        if data is not None:
            body = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        self.connection.request(method, path, body=body, headers=sent)
        response = self.connection.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if "Max-Age=0" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";", 1)[0]
        if (response.getheader("Connection") or "").lower() == "close":
            self.connection.close()  # reopened by the next request
        return Response(response.status, text)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)


def recreate_database(url):
    """Drop and create the database ``url`` names, on its server."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def start_gunicorn(app, port, workers, env, cwd):
    """Start ``gunicorn app`` and wait until /healthz answers; exit if it cannot bind."""
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app], cwd=cwd, env=env)
    for _ in range(200):
        if server.poll() is not None:
            sys.exit(f"gunicorn exited ({server.returncode}): is port {port} taken?")
        try:
            if Browser(port).get("/healthz").status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.terminate()
    sys.exit("gunicorn did not answer /healthz within 20 s")


def cpu_seconds(pids):
    """CPU seconds (user + system) the processes ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def gunicorn_pids(master):
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [master, *map(int, children.split())]


def postgres_pids():
    found = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


FORM_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def inprocess_app(url):
    """The app on ``url`` for in-process timings through its test client (the server's own
    time, no network). Import after the repository is on ``sys.path``."""
    from loyalty import create_app  # noqa: PLC0415 - the benchmark sets sys.path first

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4,
                       "SERVER_NAME": "localhost", "RATELIMIT_STORAGE_URI": "memory://"})


def signed_in_client(app, email, password):
    client = app.test_client()
    token = FORM_CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def timed_gets(client, url, runs, **kwargs):
    """Milliseconds of each of ``runs`` GETs of ``url`` (each must answer 200)."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **kwargs)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return timings
