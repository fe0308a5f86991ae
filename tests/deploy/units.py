"""The files under ``deploy/`` as a test reads them: the systemd units' settings, and their
paths moved from the installed layout (``/opt/loyalty``) to this checkout."""
import os
import re
import shlex
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALLED = "/opt/loyalty"
CERTIFICATE = "/etc/letsencrypt/live/loyalty.example.com/fullchain.pem"
PRIVATE_KEY = "/etc/letsencrypt/live/loyalty.example.com/privkey.pem"
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


def _self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loyalty.example.com")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=1))
                   .not_valid_after(now + timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def nginx_site(directory, edit=None):
    """deploy/nginx/loyalty.conf with the test certificate and this checkout's files (and
    ``edit(site)`` applied), inside a minimal nginx.conf in ``directory``; returns that
    nginx.conf. Run by root, its workers stay root: the temp directory is root's alone."""
    _self_signed(directory)
    site = in_checkout((DEPLOY / "nginx" / "loyalty.conf").read_text())
    if edit is not None:
        site = edit(site)
    site = site.replace(CERTIFICATE, str(directory / "cert.pem"))
    site = site.replace(PRIVATE_KEY, str(directory / "key.pem"))
    (directory / "site.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = directory / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}pid {directory / 'nginx.pid'};
error_log {directory / 'error.log'};
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log {directory / 'access.log'};
{temp}
    include {directory / 'site.conf'};
}}
""")
    return conf
