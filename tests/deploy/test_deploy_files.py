"""The production files under ``deploy/`` are valid for the tools that read them.

``systemd-analyze verify`` needs no running systemd (it works in a container): it parses each
unit, refuses unknown settings and checks that ``ExecStart``'s program exists. The units name
the installed layout (``/opt/loyalty``, ``/etc/loyalty/loyalty.env``), so copies are verified
with those paths pointing at this checkout, its venv and an empty environment file. It reports
an unknown or malformed setting on stderr yet still exits 0: stderr must be empty too.

``nginx -t`` checks the site inside a minimal ``nginx.conf`` of the test's own (pid, logs and
temporary files in a temp directory, so no root is needed), with a self-signed certificate in
place of the Let's Encrypt paths.

Both tools are Debian packages (systemd, nginx-light): without one the test is skipped, except
in CI (``CI`` or ``REQUIRE_REDIS=1``), where ``.ci/run`` installs nginx and a missing tool fails.
"""
import os
import re
import subprocess

from loyalty.config import Config
from loyalty.jobs import QUEUES
from tests.deploy.units import (
    DEPLOY,
    ROOT,
    SERVICES,
    UNITS,
    exec_start,
    in_checkout,
    nginx_site,
    require,
)


def test_systemd_units_verify(tmp_path):
    analyze = require("systemd-analyze")
    env_file = tmp_path / "loyalty.env"
    env_file.write_text((DEPLOY / "loyalty.env.example").read_text())
    names = sorted(path.name for path in UNITS.iterdir())
    assert names == sorted([f"{name}.service" for name in SERVICES] + ["loyalty.target"])
    for name in names:
        text = in_checkout((UNITS / name).read_text())
        (tmp_path / name).write_text(text.replace("/etc/loyalty/loyalty.env", str(env_file)))
    result = subprocess.run([analyze, "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr + result.stdout


def test_the_workers_units_work_every_queue_and_the_schedule_runs_once():
    queues = [exec_start(name)[2:] for name in ("loyalty-worker-jobs", "loyalty-worker-default")]
    assert sorted(queue for names in queues for queue in names) == sorted(QUEUES)
    assert exec_start("loyalty-scheduler")[1:] == ["worker.py", "cron"]
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines())
    assert procfile["worker"].endswith("python worker.py " + " ".join(queues[0]))
    assert procfile["worker-default"].endswith("python worker.py " + " ".join(queues[1]))
    assert procfile["release"] == "flask --app wsgi db upgrade"


def test_the_environment_template_names_every_setting(monkeypatch):
    """A setting added to config.py without a line in deploy/loyalty.env.example fails here."""
    read = set()

    class Recording(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    monkeypatch.setattr(os, "environ", Recording(os.environ))
    Config("/nonexistent")
    template = (DEPLOY / "loyalty.env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, re.MULTILINE))
    assert read - named - {"FLASK_RUN_HOST", "FLASK_RUN_PORT"} == set()


def test_the_environment_template_reads_the_same_in_systemd_and_a_shell(tmp_path):
    """The README runs the flask commands with the file sourced in a shell: each value, its
    commented settings switched on too, is what systemd reads (double quotes removed)."""
    lines = re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+=.*)$",
                       (DEPLOY / "loyalty.env.example").read_text(), re.MULTILINE)
    expected = dict(line.split("=", 1) for line in lines)
    expected = {name: value.removeprefix('"').removesuffix('"') for name, value in expected.items()}
    (tmp_path / "all.env").write_text("\n".join(lines) + "\n")
    script = "set -a && . ./all.env && exec env -0"
    result = subprocess.run(["sh", "-c", script], cwd=tmp_path, env={}, capture_output=True,
                            text=True, timeout=10, check=False)
    assert result.returncode == 0, result.stderr
    read = dict(entry.split("=", 1) for entry in result.stdout.split("\0") if "=" in entry)
    assert {name: read.get(name) for name in expected} == expected


def test_nginx_accepts_the_site(tmp_path):
    nginx = require("nginx")
    conf = nginx_site(tmp_path)
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_lets_the_app_answer_a_body_over_its_own_limit():
    site = (DEPLOY / "nginx" / "loyalty.conf").read_text()
    [megabytes] = re.findall(r"^\s*client_max_body_size (\d+)m;", site, re.MULTILINE)
    app_limit = Config("/nonexistent").MAX_CONTENT_LENGTH
    assert app_limit < int(megabytes) * 1024 * 1024 <= app_limit + 1024 * 1024
