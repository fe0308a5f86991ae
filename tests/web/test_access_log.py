"""Request logs name the route, never the secret in it: gunicorn's access log (through its own
``Logger.access`` and the logger class ``gunicorn.conf.py`` sets), the development server's
request lines and the app's "Exception on <path>" lines."""
import importlib.util
import logging
import pathlib
from datetime import timedelta
from types import SimpleNamespace
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from gunicorn.config import Config

from loyalty.extensions import db
from loyalty.services.customers import card_page as customer_card
from tests import factories

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET, TOKEN = "Zq3xSecretOfTheCard_0123456789abcdefABCDEF", "Tk9PasswordToken-0123456789abcdef"


def _gunicorn_logger(tmp_path):
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("logger_class", settings.logger_class)
    return config.logger_class(config), tmp_path / "access.log"


def _served(app, client, url, **kwargs):
    """The answer to ``url``, and the WSGI environ the app was given (as gunicorn holds it)."""
    seen, inner = [], app.wsgi_app

    def recorded(environ, start_response):
        seen.append(environ)
        return inner(environ, start_response)

    app.wsgi_app = recorded
    try:
        response = client.get(url, **kwargs)
    finally:
        app.wsgi_app = inner
    return response, {**seen[0], "RAW_URI": url}


def _logged(logger, path_file, environ, status="200 OK"):
    response = SimpleNamespace(status=status, sent=512, headers=[("Content-Type", "text/html")])
    request = SimpleNamespace(headers=[(name[5:].replace("_", "-"), value)
                                       for name, value in environ.items()
                                       if name.startswith("HTTP_")])
    logger.access(response, request, environ, timedelta(milliseconds=12))
    for handler in logger.access_log.handlers:
        handler.flush()
    return path_file.read_text().splitlines()[-1]


@pytest.mark.parametrize("url, route", [
    (f"/card/{SECRET}", "/card/<secret>"),
    (f"/card/{SECRET}/my-data.json?download=1", "/card/<secret>/my-data.json?download=…"),
    (f"/set-password/{TOKEN}", "/set-password/<token>"),
    (f"/card/{SECRET}/no-such-page", "/card/<secret>/no-such-page"),
])
def test_gunicorns_access_log_shows_the_route_not_the_secret(app, client, tmp_path, url, route):
    response, environ = _served(app, client, url, headers={
        "Referer": f"http://localhost/set-password/{TOKEN}", "User-Agent": "Phone/1.0"})
    logger, log_file = _gunicorn_logger(tmp_path)
    line = _logged(logger, log_file, environ, status=f"{response.status_code} X")
    assert SECRET not in line and TOKEN not in line
    assert f'"GET {route} HTTP/1.1" {response.status_code} 512' in line
    assert '"http://localhost/set-password/<token>" "Phone/1.0"' in line


def test_a_search_is_logged_without_what_was_searched(app, client, tmp_path):
    _response, environ = _served(app, client, "/terminal/find?q=Chlo%C3%A9+Muller&page=2")
    logger, log_file = _gunicorn_logger(tmp_path)
    line = _logged(logger, log_file, environ)
    assert "Muller" not in line and '"GET /terminal/find?q=…&page=… HTTP/1.1"' in line


def test_a_request_the_app_never_saw_keeps_its_first_segment_only(tmp_path):
    logger, log_file = _gunicorn_logger(tmp_path)
    line = _logged(logger, log_file, {
        "REQUEST_METHOD": "GET", "RAW_URI": f"/card/{SECRET}", "PATH_INFO": f"/card/{SECRET}",
        "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
        "HTTP_REFERER": f"http://x/card/{SECRET}"})
    assert SECRET not in line and '"GET /card HTTP/1.1"' in line


def test_the_development_server_logs_the_route_too(app, serve, caplog):
    team = factories.merchant_with_team("Log Shop", "log-shop")
    factories.stamp_program(team.merchant)
    card = factories.card(team.merchant, "Lena Log", email="lena@example.com")
    db.session.commit()
    server = serve(app)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        with urlopen(f"{server.url}/card/{card.page_secret}", timeout=10) as page:
            assert page.status == 200
        with pytest.raises(HTTPError):  # no such link
            urlopen(f"{server.url}/set-password/{TOKEN}", timeout=10)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any('"GET /card/<secret> HTTP/1.1" 200' in line for line in lines), lines
    assert any('GET /set-password/<token> HTTP/1.1' in line for line in lines), lines
    assert not any(card.page_secret in line or TOKEN in line for line in lines)


def test_an_exception_is_logged_with_the_route(app, caplog, monkeypatch):
    def broken(secret):
        raise RuntimeError("boom")

    monkeypatch.setattr(customer_card, "card_for_secret", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        assert app.test_client().get(f"/card/{SECRET}").status_code == 500
    lines = [record.getMessage() for record in caplog.records if record.name == app.logger.name]
    assert lines == ["Exception on /card/<secret> [GET]"]
