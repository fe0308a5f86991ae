"""deploy/nginx/loyalty.conf in front of the app, run: what a browser gets through it.

nginx (Debian's; skipped without it, except in CI) runs the site as written, with only its
ports (free local ones), the upstream (the app served by the test on a free port, with
``PROXY_FIX`` on as in production) and the certificate (self-signed) changed. Plain HTTP
redirects to HTTPS; static files come from disk with their cache headers; a body over the
app's limit but under nginx's gets the app's own 413 page.
"""
import os
import re
import signal
import subprocess

import pytest
import requests
import urllib3

from tests.deploy.units import ROOT, nginx_site, require
from tests.jobs.conftest import free_port
from tests.jobs.processes import wait_until


@pytest.fixture
def through_nginx(tmp_path, make_app, serve):
    """The app behind the site; yields (https address, http address)."""
    nginx = require("nginx")
    app = serve(make_app(PROXY_FIX=True))
    http, https = free_port(), free_port()

    def edit(site):
        site = re.sub(r"listen \[::\]:\d+[^;]*;\n", "", site)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http};")
        site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;")
        return site.replace("server 127.0.0.1:8000;", f"server {app.url.removeprefix('http://')};")

    conf = nginx_site(tmp_path, edit)
    process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"https://127.0.0.1:{https}"
    try:
        wait_until(lambda: _answers(f"{base}/healthz") or process.poll() is not None, 10,
                   "nginx serving")
        assert process.poll() is None, process.stderr.read()
        yield base, f"http://127.0.0.1:{http}"
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(10)


def _answers(url):
    try:
        return _get(url).status_code == 200
    except requests.RequestException:
        return False


def _get(url, method="GET", **kwargs):
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    kwargs.setdefault("timeout", 5)
    # the test certificate is self-signed
    return requests.request(method, url, verify=False, **kwargs)


def test_plain_http_redirects_to_https(through_nginx):
    _https, http = through_nginx
    response = requests.get(f"{http}/m/cafe/join?store=S1", allow_redirects=False, timeout=5)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://127.0.0.1/m/cafe/join?store=S1"


def test_static_files_come_from_disk_with_cache_headers(through_nginx):
    https, _http = through_nginx
    style = _get(f"{https}/static/css/app.css")
    assert style.status_code == 200
    assert style.content == (ROOT / "loyalty" / "static" / "css" / "app.css").read_bytes()
    assert style.headers["Cache-Control"] == "public, max-age=3600"
    assert style.headers["Content-Type"].startswith("text/css")
    assert style.headers["X-Content-Type-Options"] == "nosniff"
    versioned = [name for name in os.listdir(ROOT / "loyalty" / "static" / "js")
                 if name.startswith("htmx-")]
    htmx = _get(f"{https}/static/js/{versioned[0]}")
    assert htmx.status_code == 200
    assert htmx.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_pages_are_the_apps_with_its_headers(through_nginx):
    https, _http = through_nginx
    page = _get(f"{https}/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert _get(f"{https}/healthz").status_code == 200


def test_a_body_over_the_apps_limit_gets_the_apps_own_answer(through_nginx):
    https, _http = through_nginx
    over_the_app = b"x" * (8 * 1024 * 1024 + 1024)
    refused = _get(f"{https}/login", "POST", data=over_the_app, timeout=30,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 413
    assert "What you sent is too large." in refused.text
