"""The back office's jobs and emails pages: platform admins only."""
import pytest

from loyalty.extensions import db
from loyalty.services.merchant import team
from tests import factories
from tests.conftest import csrf_token_from


def _admin_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")),
                  key=lambda rule: rule.rule)


@pytest.fixture
def admin(app):
    user = factories.user("Ada Admin", admin=True)
    db.session.commit()
    return user


def test_every_back_office_page_refuses_a_merchant_owner(app, client, auth, merchant):
    team.invite(merchant.merchant, email="sent@example.com", name="Sent", role="merchant_owner")
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/team"))
    rules = _admin_rules(app)
    assert {"admin.jobs", "admin.retry_job", "admin.emails", "admin.email"} <= {
        rule.endpoint for rule in rules}
    for rule in rules:
        url = app.url_map.bind("localhost").build(rule.endpoint, {
            name: sorted(getattr(rule._converters[name], "items", None) or [1])[0]
            for name in rule.arguments})
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        response = client.open(url, method=method, data={"csrf_token": token, "ref": "outbox:1"})
        assert response.status_code in (403, 404), (url, response.status_code)
        assert "sent@example.com" not in response.get_data(as_text=True)


def test_an_admin_reads_the_emails_kept_without_smtp(app, client, auth, admin, merchant):
    team.invite(merchant.merchant, email="kept@example.com", name="Kept", role="merchant_owner")
    auth.login_as(admin)
    listing = client.get("/admin/emails").get_data(as_text=True)
    assert "kept@example.com" in listing and "You&#39;re invited to join Café Test" in listing
    assert "Kept here (no SMTP)" in listing
    page = client.get("/admin/emails/1").get_data(as_text=True)
    assert "/set-password/" in page
    html = client.get("/admin/emails/1/html")
    assert html.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "Choose my password" in html.get_data(as_text=True)
    assert client.get("/admin/emails/99").status_code == 404


def test_the_jobs_page_explains_inline_mode_and_a_bad_retry(app, client, auth, admin):
    auth.login_as(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Jobs run inline" in page and "No failed jobs." in page
    token = csrf_token_from(client.get("/admin/jobs"))
    response = client.post("/admin/jobs/retry", data={"csrf_token": token, "ref": "outbox:42"},
                           follow_redirects=True)
    assert "This job is no longer failed" in response.get_data(as_text=True)


def test_out_of_range_or_odd_ids_are_not_found_and_change_nothing(app, client, auth, admin):
    auth.login_as(admin)
    assert client.get("/admin/emails/99999999999999999999").status_code == 404
    assert client.get("/admin/emails/99999999999999999999/html").status_code == 404
    assert client.get("/admin/emails?page=-5").status_code == 200
    token = csrf_token_from(client.get("/admin/jobs"))
    for ref in ("outbox:99999999999999999999", "outbox:-1", "rq:nothing", "", "x" * 5000):
        response = client.post("/admin/jobs/retry", data={"csrf_token": token, "ref": ref},
                               follow_redirects=True)
        assert response.status_code == 200
        assert "This job is no longer failed" in response.get_data(as_text=True)
