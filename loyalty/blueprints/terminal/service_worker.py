"""The terminal's service worker (``/terminal/sw.js``, scope ``/terminal/``): it keeps the
counter's page shell and its static files so the terminal opens without connection.

Its version is a hash of the files it keeps and of the app's ``RELEASE`` setting: a deploy
that changes any of them changes the worker's bytes, so the browser installs the new worker,
which fetches the new files and deletes the caches of the old one.
"""
import hashlib
import os

from flask import current_app, render_template, url_for

from loyalty.blueprints.terminal.views import bp

#: the static files the terminal needs to open without connection (paths under /static)
SHELL_FILES = (
    "js/htmx-2.0.11.min.js",
    "js/app.js",
    "js/terminal.js",
    "js/offline-queue.js",
    "js/offline-sync.js",
    "js/offline.js",
    "js/jsqr-1.4.0.js",
    "css/app.css",
    "css/offline.css",
    "favicon.svg",
)
TEMPLATE = "terminal/sw.js"


def _fingerprint(paths):
    """(path, size, mtime) of each file: a cheap key for the hash below."""
    stats = [os.stat(path) if os.path.exists(path) else None for path in paths]
    return tuple((path, stat and stat.st_size, stat and stat.st_mtime_ns)
                 for path, stat in zip(paths, stats, strict=True))


def worker_version():
    """A short hash of the release name, the kept files' bytes and the worker's own source."""
    app = current_app
    paths = [os.path.join(app.static_folder, name) for name in SHELL_FILES]
    paths.append(os.path.join(app.root_path, app.template_folder, TEMPLATE))
    key = (app.config["RELEASE"], _fingerprint(paths))
    memo = app.extensions.setdefault("terminal_worker_version", {})
    if key not in memo:
        digest = hashlib.sha256(str(key[0]).encode())
        for path in paths:
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    digest.update(handle.read())
        memo.clear()
        memo[key] = digest.hexdigest()[:16]
    return memo[key]


@bp.route("/sw.js")
def service_worker():
    """Served to anyone: it holds no data, and the browser checks it for updates even when
    the person has signed out (a redirect to the sign-in page would fail that check)."""
    body = render_template(
        TEMPLATE, version=worker_version(), index_url=url_for("terminal.index"),
        shell=[url_for("static", filename=name) for name in SHELL_FILES],
        static_prefix=url_for("static", filename=""),
    )
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("terminal.index")
    return response
