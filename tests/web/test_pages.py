"""Pages as a visitor sees them: languages, error pages, HTMX fragments."""
import pytest

from loyalty import create_app


def test_language_switcher_changes_the_page_language(client):
    response = client.get("/lang/fr?next=/login")
    assert response.location == "/login"
    page = client.get("/login")
    assert '<html lang="fr">' in page.text
    assert "Se connecter" in page.text


def test_browser_language_is_used_when_nothing_was_chosen(client):
    page = client.get("/login", headers={"Accept-Language": "de-LU,de;q=0.9"})
    assert '<html lang="de">' in page.text
    assert "Anmelden" in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_language_switcher_never_redirects_off_site(client, target):
    response = client.get("/lang/fr", query_string={"next": target})
    assert response.location == "/"


def test_language_switcher_ignores_unknown_languages(client):
    response = client.get("/lang/xx?next=/login")
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
    cookie = app.test_client().get("/lang/fr").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
