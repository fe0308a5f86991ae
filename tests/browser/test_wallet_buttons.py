"""The card page on a phone (390x844) with both wallets configured shows both buttons; the
Apple one downloads a pkpass (its content type, a valid ZIP with a signed manifest)."""
import io
import zipfile

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard
from loyalty.services.platform.demo import load_demo_data
from tests.browser.conftest import open_page
from tests.wallets.conftest import apple_settings, wallet_files  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_card_page_offers_both_wallets(playwright_browser, make_app, serve, wallet_files,
                                           request):
    app = make_app(**apple_settings(wallet_files), GOOGLE_WALLET_ISSUER_ID="3388000000022",
                   GOOGLE_WALLET_SERVICE_ACCOUNT_FILE=str(wallet_files["service_account"]))
    with app.app_context():
        load_demo_data(history_days=1)
        secret = db.session.scalar(select(LoyaltyCard.page_secret).join(Customer).where(
            Customer.email == "marie@example.lu"))
        db.session.remove()
    server = serve(app)
    page = open_page(playwright_browser, server.url, request,
                     viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                     locale="fr-FR")
    page.goto(f"{server.url}/card/{secret}")
    apple = page.get_by_role("link", name="Ajouter à Apple Wallet")
    google = page.get_by_role("link", name="Ajouter à Google Wallet")
    assert apple.is_visible() and google.is_visible()
    page.shot("card-fr")
    response = page.request.get(server.url + apple.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/vnd.apple.pkpass"
    archive = zipfile.ZipFile(io.BytesIO(response.body()))
    assert archive.testzip() is None
    assert {"pass.json", "manifest.json", "signature"} <= set(archive.namelist())
    page.context.close()
