"""An owner uploads images the shop cannot use, in Chromium on a laptop (1440x900): each is
refused next to its field, saying what to do, and nothing is saved."""
import pytest

from loyalty.extensions import db
from loyalty.models import Role
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from tests import images
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "image-owner@example.lu", "image-owner-password"


def test_a_picture_bomb_and_a_misnamed_logo_are_refused_next_to_their_fields(
        playwright_browser, live_server, request, tmp_path):
    with live_server.app.app_context():
        merchant = accounts.create_merchant("Boulangerie Image", "boulangerie-image")
        programs.create_program(merchant, "stamps", "Carte pain", stamps_target=8,
                                stamp_reward_description="Un pain")
        owner = accounts.register_user(EMAIL, PASSWORD, "Inès Image")
        accounts.add_member(owner, merchant, Role.MERCHANT_OWNER)
        merchant_id = merchant.id
        db.session.remove()
    bomb, misnamed = tmp_path / "hero.png", tmp_path / "logo.png"
    bomb.write_bytes(images.bomb_png(whole=True))  # 17 KB, 12000x12000 pixels
    misnamed.write_bytes(images.encoded(200, 80, "JPEG"))
    page = open_page(playwright_browser, live_server.url, request,
                     viewport={"width": 1440, "height": 900}, locale="en-GB")
    page.goto(page.base + "/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/merchant/")

    page.goto(page.base + "/merchant/branding")
    assert page.text_content("#hero_image-hint") == "At most 4096 × 4096 pixels."
    page.set_input_files("#logo", str(misnamed))
    page.set_input_files("#hero_image", str(bomb))
    page.click("text=Save branding")
    page.wait_for_selector("#hero_image-errors")
    assert "larger than 4096 × 4096 pixels" in page.text_content("#hero_image-errors")
    assert "does not match the image inside it" in page.text_content("#logo-errors")
    page.shot("refused")
    with live_server.app.app_context():
        program = programs.live_program(merchant_id)
        assert (program.logo_url, program.hero_image_url) == (None, None)
    # Chromium reports the page's own 422 answer as a console error; nothing else may show.
    assert [error for error in page.console_errors if "status of 422" not in error] == []
    page.context.close()
