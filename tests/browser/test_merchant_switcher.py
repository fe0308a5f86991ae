"""Two shops on a laptop (1440x900): the owner of one is invited by the other, keeps their own
back office until they accept, then switches between the two in the top bar."""
import pytest

from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def laptops(playwright_browser, live_server, request):
    pages = [open_page(playwright_browser, live_server.url, request,
                       viewport={"width": 1440, "height": 900}, locale="en-GB")
             for _ in range(2)]
    yield pages
    for page in pages:
        page.context.close()


def _sign_in(page, email):
    page.goto(f"{page.base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")


def test_an_invited_owner_accepts_and_switches_between_two_shops(laptops):
    inviter, anna = laptops
    _sign_in(inviter, "owner@beimbaecker.lu")
    inviter.goto(f"{inviter.base}/merchant/team")
    inviter.fill("input[name=email]", "owner@kaffisbuttek.lu")
    inviter.fill("input[name=name]", "Anna")
    inviter.select_option("select#role", "store_manager")
    inviter.select_option("select#store_id", label="Centre")
    inviter.get_by_role("button", name="Invite").click()
    inviter.get_by_text("Invitation sent to owner@kaffisbuttek.lu").wait_for()
    assert inviter.get_by_text("Anna Weber").count() == 0  # the account's holder is not named
    inviter.shot("1-invitation-sent")

    _sign_in(anna, "owner@kaffisbuttek.lu")
    anna.get_by_text("1 invitation to join a team is waiting for your answer").wait_for()
    assert "Café Kaffisbuttek" in anna.content()  # her own back office, unchanged
    assert anna.locator("[data-testid=merchant-switch]").count() == 0
    anna.shot("2-own-back-office-with-notice")

    anna.get_by_role("link", name="Anna Weber").click()
    anna.get_by_role("link", name="Invitations").click()
    row = anna.locator("[data-testid=invitations] li", has_text="Boulangerie Beim Bäcker")
    anna.shot("3-invitations")
    row.get_by_role("button", name="Accept").click()
    anna.get_by_text("You joined Boulangerie Beim Bäcker.").wait_for()
    assert anna.url.startswith(f"{anna.base}/terminal")

    switcher = anna.locator("[data-testid=merchant-switch]")
    switcher.locator("summary").click()
    assert switcher.get_by_role("button", name="Café Kaffisbuttek").is_visible()
    anna.shot("4-switcher-open")
    switcher.get_by_role("button", name="Café Kaffisbuttek").click()
    anna.wait_for_url(f"{anna.base}/merchant/")
    assert anna.locator("[data-testid=merchant-switch] summary span").inner_text() == "Café Kaffisbuttek"
    anna.goto(f"{anna.base}/merchant/cards")
    assert "Bäcker" not in anna.locator("main").inner_text()
    anna.shot("5-back-in-her-shop")

    anna.locator("[data-testid=merchant-switch] summary").click()
    anna.locator("[data-testid=merchant-switch]").get_by_role(
        "button", name="Boulangerie Beim Bäcker").click()
    anna.wait_for_url(f"{anna.base}/terminal/**")
    anna.shot("6-the-other-shops-terminal")
    assert anna.console_errors == [] and inviter.console_errors == []
