"""Settings > Integrations on a 1366x768 laptop, by keyboard only: a refused key keeps what was
typed, a new key is shown once with its copy box, revoking asks first; axe finds nothing on any
of these states, and the page runs under the site's CSP without console errors."""
import pytest

from tests.browser.axe import AXE_SOURCE
from tests.browser.axe import assert_accessible as axe_check
from tests.browser.conftest import OUTPUT, open_page

pytestmark = pytest.mark.browser

OWNER, PASSWORD = "owner@kaffisbuttek.lu", "demo-password"


def assert_accessible(page, label):
    """axe, loaded through the debugger (as devtools would) so that the page keeps its real
    CSP: a violation by the page's own files still shows as a console error."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE + ";0")
    axe_check(page, label)


def _focused(page):
    return page.evaluate("(e => e.type === 'checkbox' ? e.value : "
                         "(e.name || e.id || e.textContent.trim()))(document.activeElement)")


def _tab_to(page, wanted, limit=60):
    """Press Tab until the focus is on ``wanted`` (a name, id or text): the keyboard way."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == wanted:
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_an_owner_creates_and_revokes_a_key_by_keyboard(playwright_browser, live_server, request):
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1366, "height": 768}, locale="en-GB",
                     permissions=["clipboard-read", "clipboard-write"])
    try:
        page.goto(f"{page.base}/login")
        page.fill("#email", OWNER)
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        page.wait_for_url("**/merchant/**")
        page.get_by_role("navigation", name="Shop settings").get_by_role(
            "link", name="Integrations").click()
        page.wait_for_url("**/merchant/integrations")
        assert page.get_by_role("link", name="API reference").is_visible()
        assert_accessible(page, "integrations")
        page.screenshot(path=str(OUTPUT / "integrations-1366-empty.png"))

        # Refused: a name but no permission ticked; the name stays.
        _tab_to(page, "name")
        page.keyboard.type("Till 2, Gare")
        for scope in ("cards:read", "purchases"):  # untick the defaults with Space
            _tab_to(page, scope)
            page.keyboard.press("Space")
        _tab_to(page, "Create and show the key")
        page.keyboard.press("Enter")
        page.get_by_test_id("error-summary").wait_for()
        assert page.input_value("#name") == "Till 2, Gare"
        assert "Pick at least one thing the key may do." in page.inner_text("main")
        assert_accessible(page, "integrations refused")
        page.screenshot(path=str(OUTPUT / "integrations-1366-refused.png"))

        _tab_to(page, "name")
        _tab_to(page, "purchases")
        page.keyboard.press("Space")
        _tab_to(page, "Create and show the key")
        page.keyboard.press("Enter")
        page.get_by_test_id("new-key").wait_for()
        key = page.input_value("#new-api-key")
        assert key.startswith("lk_test_") and len(key) == 51
        assert "Copy it now: it will not be shown again." in page.inner_text("main")
        copy = page.get_by_role("button", name="Copy", exact=True)
        copy.focus()
        page.keyboard.press("Enter")
        page.get_by_role("button", name="Copied").wait_for()
        assert page.evaluate("navigator.clipboard.readText()") == key
        assert_accessible(page, "integrations new key")
        page.screenshot(path=str(OUTPUT / "integrations-1366-new-key.png"))

        page.goto(f"{page.base}/merchant/integrations")  # the page again: the key is gone
        assert page.get_by_test_id("new-key").count() == 0
        assert key not in page.content()
        row = page.locator("tbody tr", has_text="Till 2, Gare")
        assert key[:12] in row.inner_text()

        revoke = row.locator("summary")
        revoke.focus()
        page.keyboard.press("Enter")  # opens the question
        confirm = row.get_by_role("button", name="Revoke “Till 2, Gare” now")
        confirm.wait_for()
        box = confirm.bounding_box()
        assert box and box["x"] + box["width"] <= 1366  # on screen, not cut off
        assert_accessible(page, "integrations revoke asks")
        page.screenshot(path=str(OUTPUT / "integrations-1366-revoke.png"))
        page.keyboard.press("Tab")
        assert _focused(page) == "Revoke “Till 2, Gare” now"
        page.keyboard.press("Enter")
        page.get_by_text("is revoked: requests with it are refused from now on.").wait_for()
        assert "Revoked" in page.locator("tbody tr", has_text="Till 2, Gare").inner_text()
        assert_accessible(page, "integrations revoked")
        refused = "Failed to load resource: the server responded with a status of 422"
        assert [line for line in page.console_errors if not line.startswith(refused)] == []
    finally:
        page.context.close()
