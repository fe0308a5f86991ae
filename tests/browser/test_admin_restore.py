"""A platform admin on a laptop (1440x900) deletes a merchant, finds it under "Only deleted",
restores it, and its stores are back."""
import pytest

pytestmark = pytest.mark.browser


def test_an_admin_deletes_and_restores_a_merchant_with_its_stores(laptop):
    page = laptop
    page.goto(f"{page.base}/login")
    page.fill("input[name=email]", "admin@demo.lu")
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.shot("1-dashboard")

    page.get_by_role("link", name="Stores", exact=True).click()
    assert page.get_by_text("Kirchberg").count() == 1
    page.get_by_role("link", name="Merchants", exact=True).click()
    row = page.locator("tr", has_text="Café Kaffisbuttek")
    row.get_by_role("link", name="Delete").click()
    page.get_by_role("heading", name="Delete Café Kaffisbuttek?").wait_for()
    assert page.get_by_text("2 stores").count() == 1
    page.shot("2-confirm")
    page.get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted. You find it under").wait_for()
    assert page.locator("tr", has_text="Café Kaffisbuttek").count() == 0

    page.get_by_role("link", name="Stores", exact=True).click()
    assert page.get_by_text("Kirchberg").count() == 0
    page.get_by_role("link", name="Merchants", exact=True).click()
    page.select_option("select#deleted", "deleted")
    page.get_by_role("button", name="Search").click()
    row = page.locator("tr", has_text="Café Kaffisbuttek")
    assert row.get_by_text("Deleted").count() == 1
    page.shot("3-only-deleted")
    row.get_by_role("button", name="Restore").click()
    page.get_by_text("Restored, with everything its deletion had removed.").wait_for()
    page.shot("4-restored")

    page.get_by_role("link", name="Stores", exact=True).click()
    assert page.get_by_text("Kirchberg").count() == 1 and page.get_by_text("Gare").count() >= 1
    page.shot("5-stores-back")
    assert page.console_errors == []
