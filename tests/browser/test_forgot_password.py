"""The sign-in page's "Forgot your password?" on a laptop (1440x900): the link, the page that
asks for the email, and its answer."""
import pytest

pytestmark = pytest.mark.browser


def test_a_person_asks_for_a_reset_link_from_the_sign_in_page(laptop):
    page = laptop
    page.goto(f"{page.base}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Forgot your password?").wait_for()
    page.shot("1-forgot-password")
    page.fill("input[name=email]", "owner@beimbaecker.lu")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_text("a link to choose a new password is on its way").wait_for()
    page.shot("2-link-on-its-way")
    page.get_by_role("link", name="Back to sign-in").click()
    page.get_by_role("heading", name="Sign in").wait_for()
