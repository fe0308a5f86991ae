"""Pages as a visitor sees them: languages, error pages, HTMX fragments."""
import pytest

from loyalty import create_app
from tests.conftest import choose_language, csrf_token_from


def test_language_switcher_changes_the_page_language(client):
    menu = client.get("/login").text
    assert 'formaction="/lang/fr"' in menu and 'name="next" value="/login?"' in menu
    response = choose_language(client, "fr", "/login")
    assert response.location == "/login"
    page = client.get("/login")
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text


def test_a_link_or_a_post_without_its_token_does_not_change_the_language(client):
    opened = client.get("/lang/fr?next=/login")  # a link any site could make a visitor open
    assert opened.status_code == 405 and "lang=" not in opened.headers.get("Set-Cookie", "")
    client.get("/login")
    forged = client.post("/lang/fr", data={"next": "/login"})  # another site's form
    assert forged.status_code == 400 and "lang=" not in forged.headers.get("Set-Cookie", "")
    page = client.get("/login")
    assert '<html lang="en">' in page.text and "Sign in" in page.text


def test_browser_language_is_used_when_nothing_was_chosen(client):
    page = client.get("/login", headers={"Accept-Language": "de-LU,de;q=0.9"})
    assert '<html lang="de">' in page.text
    assert "Anmelden" in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_language_switcher_never_redirects_off_site(client, target):
    response = choose_language(client, "fr", target)
    assert response.location == "/"


def test_language_switcher_ignores_unknown_languages(client):
    response = choose_language(client, "xx", "/login")
    assert response.location == "/login"
    assert '<html lang="en">' in client.get("/login").text


def test_not_found_page_looks_like_the_product(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "We could not find this page" in page.text
    assert "css/app.css" in page.text


def test_error_fragment_for_htmx_requests(client):
    page = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert page.status_code == 404
    assert "<html" not in page.text
    assert "We could not find this page" in page.text
    assert "HX-Request" in page.headers["Vary"]


def test_server_errors_show_a_friendly_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    page = app.test_client().get("/boom")
    assert page.status_code == 500
    assert "Nothing was changed" in page.text
    assert "kaboom" not in page.text


def test_an_empty_secret_key_in_development_falls_back_to_the_dev_key(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", "")  # as a freshly copied .env.example leaves it
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": "memory://"})
    assert app.test_client().get("/login").status_code == 200


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setenv("LOYALTY_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="default SECRET_KEY"):
        create_app()


def test_production_refuses_links_to_localhost_and_unknown_smtp_security(monkeypatch):
    monkeypatch.setenv("LOYALTY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="without PUBLIC_BASE_URL"):
        create_app()
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://loyalty.example.com")
    monkeypatch.setenv("SMTP_SECURITY", "tls")
    with pytest.raises(RuntimeError, match="SMTP_SECURITY must be starttls, ssl or none"):
        create_app()


def test_production_sends_secure_cookies(monkeypatch, database_url):
    monkeypatch.setenv("LOYALTY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://loyalty.example.com")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    client, https = app.test_client(), {"base_url": "https://loyalty.example.com"}
    token = csrf_token_from(client.get("/login", **https))  # a Secure cookie: HTTPS only
    cookies = client.post("/lang/fr", data={"csrf_token": token}, **https, headers={
        "Referer": "https://loyalty.example.com/login"}).headers.getlist("Set-Cookie")
    cookie = next(cookie for cookie in cookies if cookie.startswith("lang=fr"))
    assert "Secure" in cookie and "HttpOnly" in cookie
