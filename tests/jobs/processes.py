"""Real processes for fault tests: a redis-server of the test's own that it stops and starts,
and ``worker.py`` processes it starts and SIGKILLs."""
import os
import signal
import subprocess
import sys
import time

from redis import Redis
from redis.exceptions import RedisError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_until(condition, timeout, what, interval=0.1):
    """Poll ``condition`` until it is true; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)
    return time.monotonic() - started


class RedisServer:
    """``redis-server`` on ``port``, its data in ``directory`` (saved when it stops, loaded when
    it starts again, as a production Redis with its default persistence)."""

    def __init__(self, port, directory):
        self.port, self.directory = port, directory
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.directory), "--save", "3600 1", "--appendonly", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        wait_until(lambda: _answers(client), 10, "redis-server starting")
        client.close()

    def stop(self):
        """SIGTERM: Redis saves its data and exits; every client sees connections refused."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _answers(client):
    try:
        return client.ping()
    except RedisError:
        return False


class Processes:
    """``worker.py`` processes, each in a session of its own, output in ``directory``."""

    def __init__(self, directory, env):
        self.directory, self.env = directory, env
        self.started = []

    def start(self, *args, **env):
        log = self.directory / f"worker-{'-'.join(args)}-{len(self.started)}.log"
        with open(log, "w") as output:
            process = subprocess.Popen([sys.executable, "worker.py", *args], cwd=ROOT,
                                       env={**self.env, **env}, start_new_session=True,
                                       stdout=output, stderr=subprocess.STDOUT)
        process.log = log
        self.started.append(process)
        return process

    def kill(self, process):
        """SIGKILL the process and every process of its session: RQ's work horse sets its own
        process group, so a kill of the group would leave it running."""
        for pid in _session(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.wait(10)

    def wait_until(self, condition, timeout, what):
        """``wait_until``, with the processes' output when it fails."""
        try:
            return wait_until(condition, timeout, what)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.logs()}") from None

    def logs(self):
        return "\n".join(f"--- {process.log.name}\n{process.log.read_text()[-3000:]}"
                         for process in self.started)

    def stop_all(self):
        for process in self.started:
            if process.poll() is None:
                self.kill(process)


def _session(sid):
    """Pids of the live processes of session ``sid`` (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry))
    return pids
