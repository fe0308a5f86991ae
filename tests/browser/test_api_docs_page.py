"""/api/docs in Chromium: Redoc (vendored) draws every endpoint of /api/v1/openapi.json with
its example, under the page's own Content Security Policy, with no console error and no CSP
violation; the page fetches nothing from another site."""
import pytest

from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser

#: Collects the CSP's refusals (the console says them too, but as free text).
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (event) => window.__csp.push(event.violatedDirective + ' ' + event.blockedURI));
"""


def test_the_reference_draws_every_endpoint_under_its_csp(playwright_browser, live_server,
                                                         request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1366, "height": 768}, locale="en-GB")
    try:
        page.add_init_script(WATCH_CSP)
        page_errors, elsewhere = [], []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("request", lambda sent: elsewhere.append(sent.url)
                if not sent.url.startswith((live_server.url, "data:", "blob:")) else None)
        answer = page.goto(page.base + "/api/docs")
        assert answer.status == 200
        assert "'unsafe-inline'" in answer.headers["content-security-policy"]
        page.wait_for_selector("[data-section-id^='tag/'], [data-section-id^='operation/']")
        document = page.evaluate("fetch('/api/v1/openapi.json').then(r => r.json())")
        operations = [(method.upper(), path) for path, methods in document["paths"].items()
                      for method in methods]
        assert len(operations) >= 4
        text = page.inner_text("body")
        for method, path in operations:
            summary = document["paths"][path][method.lower()].get("summary")
            assert summary and summary in text and path in text, (method, path)
        page.screenshot(path=str(OUTPUT / "api-docs-top.png"))
        program = document["paths"]["/api/v1/program"]["get"]
        section = page.locator(f"[data-section-id='operation/{program['operationId']}']")
        section.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        page.screenshot(path=str(OUTPUT / "api-docs-program.png"))
        # The response sample is the schema's example, not Redoc's "string" placeholders.
        assert '"Coffee card"' in section.inner_text()
        assert page.evaluate("window.__csp") == []
        assert page.console_errors == [] and page_errors == []
        assert elsewhere == []
    finally:
        page.context.close()
