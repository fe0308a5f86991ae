"""A log line per request and per job (``loyalty/logs.py``): the request's id (the caller's
``X-Request-ID`` when valid, echoed back, handed to the jobs it queues), the route as the URL
map has it, status, duration, user and merchant; never a secret of the URL, a password or an
API key."""
import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from loyalty import logs
from loyalty.config import Config
from loyalty.extensions import db
from loyalty.jobs.outbox import drain_outbox
from loyalty.models import SentEmail
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import team
from tests import factories
from tests.conftest import AuthActions, csrf_token_from

HEX_ID = re.compile(r"[0-9a-f]{32}")


class LogLines:
    """The lines the app's logger writes, as its handler formats them (``LOG_FORMAT``)."""

    def __init__(self, log_format):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(logs.formatter(log_format))

    @property
    def text(self):
        return self.stream.getvalue()

    def objects(self, event):
        lines = [json.loads(line) for line in self.text.splitlines()]
        return [line for line in lines if line.get("event") == event]

    def requests(self, **where):
        return [line for line in self.objects("request")
                if all(line.get(key) == value for key, value in where.items())]


@pytest.fixture
def log_lines(app):
    """The app's lines, in the app's format, from INFO up (the logger as production sets it)."""
    lines = LogLines(app.config["LOG_FORMAT"])
    logger = logging.getLogger(logs.APP_LOGGER)
    level = logger.level
    logger.addHandler(lines.handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines.handler)
    logger.setLevel(level)


@pytest.fixture
def app(make_app):
    app = make_app(LOG_FORMAT="json")
    with app.app_context():
        yield app
        db.session.remove()


def test_a_signed_in_request_logs_one_json_line_with_its_id_route_user_and_merchant(
        client, auth, merchant, log_lines):
    auth.login_as(merchant.owner)
    response = client.get("/merchant/team", headers={"X-Request-ID": "lb-7f3a.Node_2"})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a.Node_2"
    [line] = log_lines.requests(request_id="lb-7f3a.Node_2")
    assert line["route"] == "/merchant/team"
    assert line["endpoint"] == "merchant.team_page"
    assert (line["method"], line["status"]) == ("GET", 200)
    assert (line["user_id"], line["merchant_id"]) == (merchant.owner.id, merchant.merchant.id)
    assert line["level"] == "INFO" and line["logger"] == "loyalty.requests"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 30_000


def test_a_visitor_s_line_names_no_user_nor_merchant(client, log_lines):
    response = client.get("/login")
    [line] = log_lines.requests(request_id=response.headers["X-Request-ID"])
    assert (line["route"], line["status"], line["user_id"], line["merchant_id"]) == (
        "/login", 200, None, None)


def test_the_card_page_s_line_names_the_route_not_the_card_s_secret(client, merchant, log_lines):
    factories.stamp_program(merchant.merchant)
    card = factories.card(merchant.merchant)
    db.session.commit()
    secret = card.page_secret

    assert client.get(f"/card/{secret}").status_code == 200
    assert client.get(f"/card/{secret}/no-such-page?q=Carla").status_code == 404

    found, missing = log_lines.objects("request")
    assert (found["route"], found["path"], found["status"]) == (
        "/card/<secret>", "/card/<secret>", 200)
    # No route: the path as the access log redacts it, a query's names without their values.
    assert (missing["route"], missing["path"], missing["status"]) == (
        "/card/<secret>/no-such-page", "/card/<secret>/no-such-page?q=…", 404)
    assert secret not in log_lines.text and "Carla" not in log_lines.text


def test_a_sign_in_s_line_has_the_user_but_not_the_password_nor_the_form(client, merchant,
                                                                           log_lines):
    token = csrf_token_from(client.get("/login"))
    response = client.post("/login", data={"email": merchant.owner.email,
                                           "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302

    [line] = log_lines.requests(method="POST")
    assert (line["route"], line["status"], line["user_id"]) == ("/login", 302, merchant.owner.id)
    for secret in (factories.PASSWORD, token, merchant.owner.email):
        assert secret not in log_lines.text


def test_an_api_call_s_line_has_the_key_s_merchant_but_not_the_key(client, merchant, log_lines):
    factories.stamp_program(merchant.merchant)
    _row, key = api_keys.create_key(merchant.merchant.id, name="Till 1",
                                    scopes=tuple(api_keys.SCOPES))
    db.session.commit()
    response = client.get("/api/v1/program", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200

    [line] = log_lines.requests(route="/api/v1/program")
    assert (line["merchant_id"], line["user_id"]) == (merchant.merchant.id, None)
    assert key not in log_lines.text


@pytest.mark.parametrize("sent", [
    "a" * 129,  # too long
    "two words",
    'x", "user_id": 1',  # would forge a field in a line that was not JSON-escaped
    "line\\nbreak",
    "é-accent",
    "",
])
def test_a_request_id_that_is_not_a_plain_bounded_token_is_replaced(client, log_lines, sent):
    response = client.get("/login", headers={"X-Request-ID": sent})
    given = response.headers["X-Request-ID"]
    assert given != sent and HEX_ID.fullmatch(given)
    [line] = log_lines.requests(route="/login")
    assert line["request_id"] == given


def test_the_longest_valid_request_id_is_kept_and_each_other_request_gets_its_own(client,
                                                                                  log_lines):
    longest = "A1._-" * 25 + "xyz"
    assert len(longest) == 128
    assert client.get("/login", headers={"X-Request-ID": longest}).headers[
        "X-Request-ID"] == longest
    first, second = (client.get("/login").headers["X-Request-ID"] for _ in range(2))
    assert first != second and HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second)
    assert [line["request_id"] for line in log_lines.requests(route="/login")] == [
        longest, first, second]


def test_a_job_queued_by_a_request_logs_its_line_with_the_request_s_id(client, merchant,
                                                                       log_lines):
    """Without Redis the invitation's email is sent in the request: its job line is the same."""
    AuthActions(client).login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/team"))
    response = client.post("/merchant/team", data={
        "csrf_token": token, "email": "new.owner@example.com", "name": "New Owner",
        "role": "merchant_owner"}, headers={"X-Request-ID": "invite-42"})
    assert response.status_code == 302
    email = db.session.scalar(select(SentEmail))
    assert email.to_address == "new.owner@example.com"

    [job] = log_lines.objects("job")
    assert job["request_id"] == "invite-42"
    assert (job["function"], job["queue"], job["status"]) == (
        "loyalty.jobs.outbox.deliver_outbox", "email", "finished")
    assert re.fullmatch(r"outbox-\d+", job["job_id"]) and job["duration_ms"] >= 0
    [request_line] = log_lines.requests(request_id="invite-42")
    assert request_line["status"] == 302
    # The email's text and its set-password link stay out of these lines (development, without
    # SMTP, also logs each email it keeps on purpose, to be read in the console).
    ours = json.dumps(log_lines.objects("job") + log_lines.objects("request"))
    assert "set-password" in email.body_text and "set-password" not in ours
    assert "New Owner" not in ours and "new.owner@example.com" not in ours


def test_development_lines_are_readable_text(make_app):
    app = make_app(LOG_FORMAT="text")
    lines = LogLines(app.config["LOG_FORMAT"])
    logger = logging.getLogger(logs.APP_LOGGER)
    level = logger.level
    logger.addHandler(lines.handler)
    logger.setLevel(logging.INFO)
    try:
        app.test_client().get("/login", headers={"X-Request-ID": "dev-1"})
    finally:
        logger.removeHandler(lines.handler)
        logger.setLevel(level)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d [\d:,]+ INFO loyalty\.requests: GET /login 200 "
                        r"[\d.]+ ms request_id=dev-1\n", lines.text)


def test_the_format_follows_the_environment_and_is_checked(make_app, monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("LOYALTY_ENV", "production")
    assert Config("/tmp").LOG_FORMAT == "json"
    monkeypatch.setenv("LOYALTY_ENV", "development")
    assert Config("/tmp").LOG_FORMAT == "text"
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert Config("/tmp").LOG_FORMAT == "json"
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be json or text"):
        make_app(LOG_FORMAT="xml")


def test_outside_tests_the_lines_go_to_standard_error_through_one_handler(make_app, capsys):
    logger = logging.getLogger(logs.APP_LOGGER)
    before = list(logger.handlers), logger.level
    try:
        make_app(TESTING=False, LOG_FORMAT="text")
        app = make_app(TESTING=False, LOG_FORMAT="json")  # a second app replaces the handler
        ours = [h for h in logger.handlers if isinstance(h, logs.StandardErrorHandler)]
        assert len(ours) == 1 and logger.level == logging.INFO
        capsys.readouterr()
        app.test_client().get("/login", headers={"X-Request-ID": "to-stderr"})
        [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines()
                  if "to-stderr" in text]
        assert (line["route"], line["status"]) == ("/login", 200)
    finally:
        for handler in [h for h in logger.handlers if h not in before[0]]:
            logger.removeHandler(handler)
        logger.setLevel(before[1])


def test_a_failed_job_logs_a_warning_with_the_error_s_type_only(app, merchant, log_lines):
    """Run inline (no Redis) outside a request, with the mail server away: failed, no id."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9, SMTP_SECURITY="none")
    team.invite(merchant.merchant, email="away@example.com", name="Away Person",
                role="merchant_owner")

    [line] = log_lines.objects("job")
    assert (line["level"], line["status"], line["queue"], line["request_id"]) == (
        "WARNING", "failed", "email", None)
    assert line["error"] == "ConnectionRefusedError"
    assert "away@example.com" not in json.dumps(line)


def test_the_schedule_s_runs_without_redis_stay_out_of_the_info_lines(app, log_lines, caplog):
    """``make run`` drains the outbox every few seconds in the web process: those runs are
    DEBUG lines, so the console keeps to what people do; a failing one is still a warning."""
    drain_outbox()
    assert log_lines.objects("job") == []
    with caplog.at_level(logging.DEBUG, logger="loyalty.jobs.runs"):
        drain_outbox()
    [record] = [r for r in caplog.records if r.name == "loyalty.jobs.runs"]
    assert record.levelno == logging.DEBUG and record.fields["status"] == "finished"
    assert (record.fields["job_id"], record.fields["function"]) == (
        None, "loyalty.jobs.outbox.drain_outbox")
