"""Security headers on every kind of response, and no-store on pages."""
import pytest

from loyalty.headers import CONTENT_SECURITY_POLICY

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize("url", ["/login", "/no-such-page", "/static/css/app.css", "/healthz",
                                 "/terminal/"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (url, name)
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in policy, (url, directive)
    assert "Strict-Transport-Security" not in response.headers  # only behind HTTPS, in production


def test_the_policy_admits_only_the_apps_own_scripts_and_styles():
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "style-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_pages_are_not_stored_but_static_files_may_be(auth, client, merchant):
    auth.login_as(merchant.owner)
    assert client.get("/merchant/").headers["Cache-Control"] == "no-store"
    assert client.get("/no-such-page").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_production_adds_hsts_and_secure_cookies(make_app, monkeypatch):
    monkeypatch.setenv("LOYALTY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-for-this-test")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://loyalty.example.com")
    client = make_app().test_client()
    page = client.get("/login")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_page_carries_inline_script_or_style(auth, client, merchant, terminal):
    """The CSP refuses inline code: the templates must not need any."""
    terminal.sign_in(merchant.staff)
    for url in ("/terminal/", "/account"):
        text = client.get(url).text
        assert "<script>" not in text and " style=" not in text and "<style" not in text
        assert 'hx-on' not in text
