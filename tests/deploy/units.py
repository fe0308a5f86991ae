"""The files under ``deploy/`` as a test reads them: the systemd units' settings, and their
paths moved from the installed layout (``/opt/loyalty``) to this checkout."""
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/loyalty"
SERVICES = ("loyalty-web", "loyalty-worker-jobs", "loyalty-worker-default", "loyalty-scheduler")


def in_checkout(text):
    """``text`` with the installed paths replaced by this checkout's (its venv: the one running
    the tests)."""
    return text.replace(f"{INSTALLED}/.venv", sys.prefix).replace(INSTALLED, str(ROOT))


def unit_settings(name):
    """``{key: [values]}`` of a unit file (every section; comments left out, a line ending in
    a backslash continued on the next)."""
    settings = {}
    text = re.sub(r"\\\n\s*", " ", (UNITS / name).read_text())
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def exec_start(service, run_dir=None):
    """The service's command line, run from this checkout (its ``/run`` paths under
    ``run_dir``)."""
    [command] = unit_settings(f"{service}.service")["ExecStart"]
    command = in_checkout(command)
    if run_dir is not None:
        command = command.replace("/run/", f"{run_dir}/")
    return shlex.split(command)


def require(tool):
    """The tool's path; without it the test is skipped, except in CI (``CI`` or
    ``REQUIRE_REDIS=1``), where it is a failure."""
    path = shutil.which(tool, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if path is None:
        if os.environ.get("CI") or os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"{tool} is not installed (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed")
    return path
