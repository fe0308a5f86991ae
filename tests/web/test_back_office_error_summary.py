"""A refused owner or admin form says so at its top in a live region (role="alert"), with a
link to each field that needs attention, and each field is tied to its error (#23)."""
import re

from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import csrf_token_from


def test_a_refused_store_form_announces_its_summary_and_ties_errors_to_fields(client, auth,
                                                                              merchant):
    auth.login_as(merchant.owner)
    token = csrf_token_from(client.get("/merchant/stores"))
    page = client.post("/merchant/stores", data={"csrf_token": token, "name": "", "code": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', text, re.S).group(0)
    assert "fields need your attention" in summary and 'href="#name"' in summary
    name_input = re.search(r'<input[^>]*id="name"[^>]*>', text).group(0)
    assert 'aria-invalid="true"' in name_input and "aria-describedby" in name_input


def test_an_admin_form_refused_in_french_announces_it_too(client, auth):
    admin = accounts.register_user("root@platform.test", factories.PASSWORD, "Root",
                                   is_platform_admin=True)
    auth.login_as(admin)
    token = csrf_token_from(client.get("/admin/merchants/new"))
    client.set_cookie("lang", "fr")
    page = client.post("/admin/merchants/new", data={"csrf_token": token, "name": ""})
    assert page.status_code == 422
    assert 'role="alert"' in page.get_data(as_text=True)
    assert re.search(r"\d+ champs? demandent? votre attention", page.get_data(as_text=True))
