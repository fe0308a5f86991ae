"""On RQ, a job's log line carries the id of the request that queued it (``loyalty/logs.py``)."""
import logging

import pytest
from rq.job import Job
from sqlalchemy import select

from loyalty import logs
from loyalty.extensions import db, redis_client
from loyalty.models import OutboxMessage, SentEmail
from loyalty.services.merchant import team as teams
from tests import factories
from tests.conftest import AuthActions, csrf_token_from
from tests.jobs.conftest import work
from tests.web.test_request_logs import LogLines


@pytest.fixture
def log_lines(rq_app):
    lines = LogLines("json")
    logger = logging.getLogger(logs.APP_LOGGER)
    level = logger.level
    logger.addHandler(lines.handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines.handler)
    logger.setLevel(level)


def test_the_worker_logs_the_job_with_the_id_of_the_request_that_queued_it(rq_app, log_lines):
    team = factories.merchant_with_team("Café Queue", "cafe-queue")
    db.session.commit()
    client = rq_app.test_client()
    AuthActions(client).login_as(team.owner)
    token = csrf_token_from(client.get("/merchant/team"))
    response = client.post("/merchant/team", data={
        "csrf_token": token, "email": "queued@example.com", "name": "Queued Person",
        "role": "merchant_owner"}, headers={"X-Request-ID": "edge-9f.1"})
    assert response.status_code == 302 and response.headers["X-Request-ID"] == "edge-9f.1"

    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "email"))
    job = Job.fetch(f"outbox-{row.id}", connection=redis_client.connection)
    assert job.meta == {"request_id": "edge-9f.1"}
    assert log_lines.objects("job") == []  # queued, not run in the request

    work(rq_app)
    db.session.commit()
    assert db.session.scalar(select(SentEmail.to_address)) == "queued@example.com"
    [line] = log_lines.objects("job")
    assert (line["job_id"], line["queue"], line["request_id"], line["status"]) == (
        f"outbox-{row.id}", "email", "edge-9f.1", "finished")
    assert line["function"] == "loyalty.jobs.outbox.deliver_outbox"
    assert line["duration_ms"] >= 0
    assert "set-password" not in str(line) and "Queued Person" not in str(line)


def test_a_job_not_queued_by_a_request_has_no_request_id(rq_app, log_lines):
    team = factories.merchant_with_team("Café Quiet", "cafe-quiet")
    db.session.commit()
    teams.invite(team.merchant, email="cli@example.com", name="From A Command",
                 role="merchant_owner")
    work(rq_app)
    [line] = log_lines.objects("job")
    assert line["request_id"] is None and line["status"] == "finished"
