"""The team page on a laptop (1440x900): an invitation sent with the form's defaults, the store
choice gone for an owner, and a removal that asks first."""
import pytest

pytestmark = pytest.mark.browser


def test_an_owner_invites_with_the_defaults_and_removes_after_a_confirmation(laptop):
    page = laptop
    page.goto(f"{page.base}/login")
    page.fill("input[name=email]", "owner@beimbaecker.lu")
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.goto(f"{page.base}/merchant/team")
    page.shot("1-team")
    assert page.locator(".invite-store").is_visible()
    page.select_option("select#role", "merchant_owner")
    assert not page.locator(".invite-store").is_visible()  # an owner has every store
    page.select_option("select#role", "store_staff")

    page.fill("input[name=email]", "lena@example.com")
    page.fill("input[name=name]", "Lena")
    page.get_by_role("button", name="Invite").click()  # role and store as preselected
    page.get_by_text("Invitation sent to lena@example.com").wait_for()

    row = page.locator("tbody tr", has_text="lena@example.com")
    remove = row.get_by_role("link", name="Remove")
    box = remove.bounding_box()
    assert box and box["x"] + box["width"] <= 1440  # the button is on screen, not cut off
    remove.click()
    page.get_by_text("The invitation to lena@example.com (Staff,").wait_for()
    page.shot("2-remove-asks-first")
    page.get_by_role("button", name="Remove").click()
    page.get_by_text("is no longer in the team here.").wait_for()
    assert page.locator("tbody tr", has_text="lena@example.com").count() == 0
    page.shot("3-removed")
    assert page.console_errors == []
