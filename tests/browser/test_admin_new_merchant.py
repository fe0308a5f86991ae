"""A platform admin opens a merchant: the web address follows the shop's name as it is typed,
until the admin writes their own (#21, point 11)."""
import pytest

pytestmark = pytest.mark.browser


def test_the_web_address_follows_the_name_until_the_admin_changes_it(laptop):
    page = laptop
    page.goto(f"{page.base}/login")
    page.fill("input[name=email]", "admin@demo.lu")
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.goto(f"{page.base}/admin/merchants/new")
    name, slug = page.get_by_label("Name", exact=True), page.get_by_label("Web address")
    name.press_sequentially("Café Müller")
    assert slug.input_value() == "cafe-muller"
    name.fill("Straßen-Bäckerei & Co.")
    assert slug.input_value() == "strassen-backerei-co"
    page.shot("1-suggested")

    slug.fill("baeckerei")
    name.fill("Straßen-Bäckerei & Co. Gare")
    assert slug.input_value() == "baeckerei"  # the admin's own address stays
    slug.fill("")
    name.press("End")
    name.press_sequentially("!")
    assert slug.input_value() == "strassen-backerei-co-gare"  # emptied: it follows again

    page.fill("input[name=owner_name]", "Nina Owner")
    page.fill("input[name=owner_email]", "nina@cafe.test")
    page.get_by_role("button", name="Create the merchant").click()
    page.get_by_text("Merchant created; its owner has been invited by email.").wait_for()
    assert page.get_by_label("Web address").input_value() == "strassen-backerei-co-gare"
    page.shot("2-created")
    assert page.console_errors == []
