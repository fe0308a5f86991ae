"""Addresses on names kept for examples and tests (``.test``, ``.localhost``, example.com) are
welcome in development on every form that takes an email, not only the admin's (#21, point
11: the cause, fixed everywhere); production refuses them on the join form, saying why."""
import uuid

from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import Customer
from loyalty.services.platform import accounts
from tests import factories
from tests.conftest import csrf_token_from


def _join(client, email):
    token = csrf_token_from(client.get("/m/cafe-test/join"))
    return client.post("/m/cafe-test/join", data={
        "csrf_token": token, "first_name": "Tess", "last_name": "Test", "email": email,
        "phone": "", "language": "en", "consent": "y", "website": ""})


def test_a_customer_joins_with_a_test_domain_address_in_development(client, merchant):
    factories.stamp_program(merchant.merchant)
    db.session.commit()
    assert _join(client, "tess@shop.test").status_code == 302
    assert db.session.scalar(select(Customer.email).where(Customer.email == "tess@shop.test"))


def test_someone_signs_in_with_a_test_domain_address_in_development(client):
    accounts.register_user("dev@loyalty.localhost", "a-long-password", "Dev")
    token = csrf_token_from(client.get("/login"))
    answer = client.post("/login", data={"csrf_token": token, "email": "dev@loyalty.localhost",
                                         "password": "a-long-password"})
    assert answer.status_code == 302 and "/login" not in answer.location


def test_staff_enrol_a_customer_with_a_test_domain_address(terminal, client, merchant):
    factories.stamp_program(merchant.merchant)
    db.session.commit()
    terminal.sign_in(merchant.staff)
    answer = terminal.enroll(name="Tom Test", email="tom@counter.test", language="en",
                             idempotency_key=uuid.uuid4().hex)
    assert answer.status_code == 200 and "Tom Test" in answer.get_data(as_text=True)


def test_production_refuses_a_test_domain_on_the_join_form_and_says_why(app, client, merchant):
    factories.stamp_program(merchant.merchant)
    db.session.commit()
    app.config["ENV_NAME"] = "production"
    answer = _join(client, "tess@shop.test")
    assert answer.status_code == 422
    assert "Mail to shop.test never arrives" in answer.get_data(as_text=True)
