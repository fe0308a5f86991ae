"""A new shop's owner sets up the program in Chromium on a laptop (1440x900)."""
import re

import pytest

from loyalty.extensions import db
from loyalty.models import Role
from loyalty.services.platform import accounts
from tests.browser.conftest import OUTPUT

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "new-owner@example.lu", "new-owner-password"


@pytest.fixture
def laptop(playwright_browser, live_server, request):
    with live_server.app.app_context():
        merchant = accounts.create_merchant("Épicerie Nouvelle", "epicerie-nouvelle")
        accounts.create_store(merchant, "Grand-Rue", "GR")
        owner = accounts.register_user(EMAIL, PASSWORD, "Noémie Owner")
        accounts.add_member(owner, merchant, Role.MERCHANT_OWNER)
        db.session.remove()
    context = playwright_browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    steps = iter(range(1, 100))

    def shot(label):
        page.screenshot(path=str(OUTPUT / f"{request.node.name}-{next(steps):02d}-{label}.png"),
                        full_page=True)

    page.shot = shot
    page.base = live_server.url
    page.console_errors = errors
    yield page
    context.close()


def test_a_new_owner_sets_up_a_points_program_branding_a_pin_and_sees_the_stats(laptop):
    page = laptop
    page.goto(page.base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/merchant/")
    assert "1 of 7 steps done." in page.text_content(".checklist")  # the store is there
    page.shot("checklist")

    page.click("text=Create your loyalty program")
    page.wait_for_url("**/merchant/program")
    page.wait_for_load_state("load")  # htmx (a deferred script) listens for the change by then
    page.select_option("#program_type", "points")  # htmx swaps the fields in
    page.wait_for_selector("#points_per_euro")
    assert page.locator("#stamps_target").count() == 0
    page.fill("#card_name", "Épicerie points")
    page.fill("#points_per_euro", "5")
    page.fill("#point_value", "1")
    page.shot("program")
    page.click("text=Create program")
    page.wait_for_url("**/merchant/program")
    assert "Your program is saved." in page.text_content("#flashes")

    page.goto(page.base + "/merchant/rewards")
    for name, cost in (("Croissant", "50"), ("Coffee beans", "300")):
        page.fill("#name", name)
        page.fill("#points_cost", cost)
        page.click("text=Add reward")
        page.wait_for_selector(f"td >> text={name}")
    page.shot("rewards")

    page.goto(page.base + "/merchant/branding")
    before = page.evaluate("getComputedStyle(document.querySelector('.pass')).backgroundColor")
    page.fill("#primary_color", "#7a1f4d")  # the colour input takes the value and fires input
    page.dispatch_event("#primary_color", "input")
    after = page.evaluate("getComputedStyle(document.querySelector('.pass')).backgroundColor")
    assert before != after and after == "rgb(122, 31, 77)"
    page.fill("#card_name", "Épicerie fine")
    assert page.text_content("[data-preview-name]") == "Épicerie fine"
    page.shot("branding-preview")
    page.click("text=Save branding")
    page.wait_for_url("**/merchant/branding")

    page.goto(page.base + "/merchant/pins")
    page.fill("#staff_name", "Paul")
    page.click("text=Add and show the PIN")
    pin = page.text_content("[data-testid=revealed-pin]")
    assert re.fullmatch(r"\d{4}", pin)
    page.shot("pin-shown-once")
    page.goto(page.base + "/merchant/pins")
    assert page.locator("[data-testid=revealed-pin]").count() == 0
    assert "Paul" in page.text_content("table")

    # Printing the poster (the browser's own print command too) ticks its step off.
    page.goto(page.base + "/merchant/poster")
    with page.expect_response("**/merchant/poster/printed*") as printed:
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert printed.value.status == 204
    page.goto(page.base + "/merchant/")
    assert page.locator(".step.done[data-step=poster]").count() == 1
    page.shot("checklist-after-the-poster")

    page.goto(page.base + "/merchant/stats")
    assert page.locator("svg.bars rect").count() >= 30
    page.shot("stats")
    assert page.console_errors == []
