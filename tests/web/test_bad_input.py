"""Bad input of any shape, over the whole URL map: a 4xx with a message, never a 500, and
nothing changes.

Routes come from the app's URL map and forms from the classes a request builds, so a new route
or form is walked without editing this file. Each role walks every route with every method;
every route that takes a POST gets JSON bodies, a file in place of each field, and, for each
field of the form it builds, a 400-digit number, a NUL byte and 10,000 characters in an
otherwise valid submission.
"""
import io
import uuid
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import IntegerField

from loyalty.extensions import db
from loyalty.forms import Form
from loyalty.models import (
    AppleRegistration,
    Customer,
    LoyaltyCard,
    LoyaltyProgram,
    LoyaltyTransaction,
    Membership,
    StaffPin,
    StoredFile,
    User,
)
from loyalty.services.engine import staff_pins
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.stamps import add_stamp
from loyalty.services.merchant import programs
from loyalty.services.wallets import apple_pass, passkit
from tests import factories, images
from tests.conftest import csrf_token_from
from tests.wallets.conftest import PASS_TYPE, apple_settings, wallet_files  # noqa: F401 - the fixture

HUGE = "9" * 400
LONG = "x" * 10_000
WALKED_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS")
QUERY_NAMES = ("q", "next", "reward_id", "transaction_id", "page", "before", "person", "store",
               "first_day", "last_day", "area", "sort", "status")
JSON_BODIES = ('{"email": "a@example.com", "amount": 1e400, "store_id": {"id": 1}}',
               "[1, 2]", '"text"', "1e400")


def _every_subclass(cls):
    found = set()
    todo = [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_form_reads_only_what_was_posted():
    """Forms derive from ``loyalty.forms.Form``: a missing field stays missing, JSON is never
    read as form data, a file only counts in a file field."""
    ours = [cls for cls in _every_subclass(FlaskForm) if cls.__module__.startswith("loyalty")]
    assert ours, "no forms found"
    assert [cls.__name__ for cls in ours if not issubclass(cls, Form)] == []


class World:
    """A merchant with a hybrid program, a reward, a staff PIN, a card with one stamp."""

    def __init__(self, merchant):
        team = self.team = merchant
        program = factories.hybrid_program(team.merchant)
        self.card = factories.card(team.merchant, "Walter Walk", email="walter@example.com")
        self.reward = programs.add_reward(program, "Walk cake", 1)
        self.pin = staff_pins.create_staff_pin(team.merchant, team.stores[0], "Tom", "1234")
        result = add_stamp(self.card, context=ActionContext(store_id=team.stores[0].id,
                                                            user_id=team.staff.id))
        self.transaction = result.transaction
        self.alert = factories.fraud_alert(team.merchant, store=team.stores[0], cards=[self.card],
                                           staff_pin=self.pin)
        self.url_values = {
            "card_id": self.card.id, "store_id": team.stores[0].id,
            "customer_id": team.customers[0].id, "reward_id": self.reward.id,
            "transaction_id": self.transaction.id, "staff_pin_id": self.pin.id,
            "user_id": team.staff.id, "merchant_id": team.merchant.id,
            "kind": "earn", "code": "fr", "filename": "css/app.css", "alert_id": self.alert.id,
        }

    def valid(self, name, user):
        values = {
            "idempotency_key": uuid.uuid4().hex, "pin": "1234", "staff_pin_id": self.pin.id,
            "amount": "1", "order_reference": "ORDER-1", "reward_id": self.reward.id,
            "transaction_id": self.transaction.id, "store_id": self.team.stores[0].id,
            "name": "Nora New", "email": user.email if user else "nora@example.com",
            "phone": "+352 621 000 000", "language": "fr", "password": factories.PASSWORD,
            "current_password": factories.PASSWORD, "new_password": "a-new-password-1",
            "confirm_password": "a-new-password-1",
        }
        return str(values.get(name, "1"))

    def state(self):
        """What bad input must never change: the ledger, the cards and who belongs where."""
        def one(statement):
            return db.session.execute(statement.execution_options(include_deleted=True)).one()
        db.session.commit()  # read what the requests committed
        return (
            one(select(func.count(LoyaltyTransaction.id))),
            one(select(func.count(LoyaltyCard.id), func.coalesce(func.sum(LoyaltyCard.stamp_count), 0),
                       func.coalesce(func.sum(LoyaltyCard.points_balance), 0))),
            one(select(func.count(Customer.id))),
            one(select(func.count(Membership.id), func.count(Membership.deleted_at))),
            one(select(func.count(StaffPin.id))),
            one(select(func.count(User.id), func.count(User.deleted_at))),
            tuple(db.session.execute(select(User.password_hash).order_by(User.id)).scalars()),
        )


class Walker:
    """One role's browser: signs in (again, after a route signed it out) and keeps its token."""

    def __init__(self, client, world, user):
        self.client, self.world, self.user = client, world, user
        self.failures = []
        self.token = None
        self.sign_in()

    def sign_in(self):
        page = self.client.get("/login")
        token = csrf_token_from(page)
        if self.user is not None:
            signed_in = self.client.post("/login", data={
                "email": self.user.email, "password": factories.PASSWORD, "csrf_token": token})
            assert signed_in.status_code == 302, signed_in.text
            token = csrf_token_from(self.client.get("/account"))
            if self.client.get("/terminal/store").status_code == 200:
                self.client.post("/terminal/store", data={
                    "store_id": self.world.team.stores[0].id, "csrf_token": token})
        self.token = token

    def still_signed_in(self):
        return self.user is None or self.client.get("/account").status_code == 200

    def url(self, app, rule):
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            default = 1 if type(converter).__name__ == "IntegerConverter" else "x"
            values[name] = self.world.url_values.get(name, default)
            if getattr(converter, "items", None) and values[name] not in converter.items:
                values[name] = sorted(converter.items)[0]  # <any(up, down):direction>
        return app.url_map.bind("localhost").build(rule.endpoint, values)

    def check(self, label, response, expect_4xx=True):
        status = response.status_code
        if status >= 500 or (expect_4xx and not 400 <= status < 500):
            self.failures.append(f"{label}: {status}")

    def post(self, url, *, data=None, body=None, content_type=None):
        headers = {"X-CSRFToken": self.token}
        if body is not None:
            return self.client.post(url, data=body, content_type=content_type, headers=headers)
        return self.client.post(url, data=data, headers=headers)


@pytest.fixture
def recorded_forms(monkeypatch):
    """The form classes each request builds."""
    built = []
    original = Form.__init__

    def recording(self, *args, **kwargs):
        built.append(type(self))
        original(self, *args, **kwargs)

    monkeypatch.setattr(Form, "__init__", recording)
    return built


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def _walk_methods(walker, app, rule):
    url = walker.url(app, rule)
    for method in WALKED_METHODS:
        walker.check(f"{method} {url}", walker.client.open(url, method=method), expect_4xx=False)
    if "GET" in rule.methods:
        walker.check(f"GET {url} (HTMX)", walker.client.get(url, headers={"HX-Request": "true"}),
                     expect_4xx=False)
        for value in (HUGE, LONG, "0001-01-01", "9999-12-31", "-1"):
            query = {name: value for name in QUERY_NAMES}
            walker.check(f"GET {url} ?{value[:3]}...", walker.client.get(url, query_string=query),
                         expect_4xx=False)
        walker.check(f"GET {url} ?NUL", walker.client.get(url, query_string={"q": "a\x00b"}))


def _post_cases(walker, app, rule, recorded_forms):
    url = walker.url(app, rule)
    user = walker.user
    recorded_forms.clear()
    probe = walker.post(url, data={})  # every field missing
    forms = set(recorded_forms)
    with app.test_request_context():
        fields = {name: field for form in forms
                  for name, field in form(formdata=None, meta={"csrf": False})._fields.items()}
    if fields:
        walker.check(f"POST {url} missing fields", probe)
    if not walker.still_signed_in():  # the probe signed out (sign-out takes no fields)
        walker.sign_in()
    for body in JSON_BODIES:
        walker.check(f"POST {url} JSON {body[:12]}",
                     walker.post(url, body=body, content_type="application/json"))
    walker.check(f"POST {url} text/plain", walker.post(url, body="a=1", content_type="text/plain"))
    files = {name: (io.BytesIO(b"x"), "x.txt") for name in (fields or ["name"])}
    # A route that takes uploads reads multipart: a visitor without a session is sent to sign
    # in first (nothing is read or done); everyone else gets the form's own refusal.
    uploads = getattr(app.view_functions[rule.endpoint], "accepts_upload", False)
    walker.check(f"POST {url} file in a text field", walker.post(url, data=files),
                 expect_4xx=not (uploads and walker.user is None))
    walker.check(f"POST {url} NUL in an unknown field", walker.post(url, data={"zz": "a\x00"}))
    for name, field in fields.items():
        baseline = {other: walker.world.valid(other, user) for other in fields}
        bad_values = {"NUL": "ok\x00", "10,000 characters": LONG}
        if isinstance(field, IntegerField):
            bad_values["400 digits"] = HUGE
        for label, value in bad_values.items():
            walker.check(f"POST {url} {name}={label}", walker.post(url, data={**baseline, name: value}))


@pytest.mark.parametrize("role", ["anonymous", "staff", "owner", "admin"])
def test_bad_input_anywhere_is_a_4xx_and_changes_nothing(app, client, merchant, role,
                                                          recorded_forms):
    with app.test_request_context():
        world = World(merchant)
    user = {"anonymous": None, "staff": merchant.staff, "owner": merchant.owner,
            "admin": factories.user("Ada Admin", admin=True)}[role]
    walker = Walker(client, world, user)
    before = world.state()
    walked = 0
    for rule in _rules(app):
        _walk_methods(walker, app, rule)
        if "POST" in rule.methods:
            _post_cases(walker, app, rule, recorded_forms)
            walked += 1
        if not walker.still_signed_in():
            walker.sign_in()
    assert walked >= 10, "the URL map lost its form routes?"
    assert walker.failures == []
    assert world.state() == before


def test_a_body_larger_than_the_limit_is_refused_with_a_message(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    refused = client.post("/login", data={"email": "x" * 2048})
    assert refused.status_code == 413
    assert "What you sent is too large. Send a smaller file or shorter text." in refused.text


def test_a_json_sign_in_is_refused_with_a_message(client):
    """Once a 500 for anyone, without an account."""
    refused = client.post("/login", data="[1, 2]", content_type="application/json")
    assert refused.status_code == 415
    assert "This page only accepts its own forms." in refused.text


@pytest.mark.parametrize("password", ["x" * 100, "é" * 40])
def test_a_password_longer_than_bcrypt_reads_is_just_wrong(auth, merchant, password):
    """bcrypt 5 refuses secrets over 72 bytes: once a 500 for anyone."""
    response = auth.login(merchant.owner.email, password)
    assert response.status_code == 401
    assert "Wrong email or password" in response.text


@pytest.mark.parametrize("target", ["http://[x", "//[x", "//a\uff03b", "/\\evil.example"])
def test_a_malformed_return_address_is_ignored(auth, client, merchant, target):
    token = csrf_token_from(client.get("/login"))
    response = client.post("/login", query_string={"next": target}, data={
        "email": merchant.owner.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.location == "/merchant/"


def test_a_malformed_htmx_current_url_is_ignored(client):
    response = client.get("/terminal/", headers={"HX-Request": "true", "HX-Current-URL": "http://[x"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


#: Images every upload field must refuse, with (part of) the message that says what to do.
BAD_IMAGES = {
    "decompression bomb": ((images.bomb_png(whole=True), "logo.png", "image/png"),
                           "larger than 4096 × 4096 pixels"),
    "bytes not of the claimed type": (images.MISMATCHED["JPEG bytes named .png"],
                                      "does not match the image inside it"),
    "truncated image": ((images.truncated_png(), "logo.png", "image/png"),
                        "This image is damaged or incomplete."),
    "not an image": ((b"%PDF-1.4 not a picture", "logo.png", "image/png"),
                     "Upload a PNG, JPEG or WebP image."),
}


class _PageForm(HTMLParser):
    """The fields a page's forms would post as they are (text inputs, text areas, selects)."""

    def __init__(self):
        super().__init__()
        self.values, self._textarea, self._select = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("file", "submit", "checkbox"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea, self.values[name] = name, ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and (self._select not in self.values
                                                    or "selected" in attrs):
            self.values[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_every_upload_refuses_bad_images_with_a_message_and_changes_nothing(
        app, client, merchant, role, recorded_forms):
    """Every route that takes uploads, every file field of its form, in an otherwise valid
    submission of the page as it is: a bomb, mismatched bytes, a cut-off file, a non-image."""
    with app.test_request_context():
        world = World(merchant)
    user = merchant.owner if role == "owner" else factories.user("Ada Admin", admin=True)
    walker = Walker(client, world, user)

    def branding():
        db.session.commit()
        return db.session.execute(select(LoyaltyProgram.logo_url, LoyaltyProgram.hero_image_url,
                                         LoyaltyProgram.card_name)).all()

    before, looks = world.state(), branding()
    walked = []
    for rule in _rules(app):
        if not getattr(app.view_functions[rule.endpoint], "accepts_upload", False):
            continue
        url = walker.url(app, rule)
        recorded_forms.clear()
        page = client.get(url)
        if page.status_code != 200:  # not this role's page: the walk above covers it
            continue
        parsed = _PageForm()
        parsed.feed(page.get_data(as_text=True))
        with app.test_request_context():
            file_fields = [name for form in set(recorded_forms)
                           for name, field in form(formdata=None, meta={"csrf": False})._fields.items()
                           if isinstance(field, FileField)]
        assert file_fields, f"{url} takes uploads but its form has no file field"
        for name in file_fields:
            for label, ((content, filename, content_type), message) in BAD_IMAGES.items():
                data = {**parsed.values, "card_name": "Changed by a refused upload",
                        name: (io.BytesIO(content), filename, content_type)}
                response = walker.post(url, data=data)
                if not (400 <= response.status_code < 500 and message in response.text):
                    walker.failures.append(f"POST {url} {name}={label}: {response.status_code}")
                walked.append((url, name, label))
    if role == "owner":
        assert len(walked) >= 2 * len(BAD_IMAGES), "the logo and hero uploads were not walked"
    assert walker.failures == []
    assert (world.state(), branding()) == (before, looks)
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


#: Bodies every JSON route must refuse (4xx, a JSON message), changing nothing.
BAD_JSON_BODIES = {
    "50,000 nested brackets": "[" * 50_000 + "]" * 50_000,
    "deep nesting within the size limit": '{"logs": ' + "[" * 20_000 + "]" * 20_000 + "}",
    "deep objects": '{"pushToken": ' * 40 + '"a1b2"' + "}" * 40,
    "brackets left open": "[" * 30_000,
    "huge body": '{"pushToken": "a1b2", "logs": ["' + "x" * 2_000_000 + '"]}',
    "escaped NUL": '{"pushToken": "a1\\u0000b2", "logs": ["a\\u0000b"]}',
    "NUL byte": '{"pushToken": "a1\x00b2", "logs": ["a\x00b"]}',
    "huge integer": '{"pushToken": ' + HUGE + ', "logs": [' + HUGE + "]}",
    "huge float": '{"pushToken": 1e400, "logs": [-1e400]}',
    "NaN": '{"pushToken": NaN, "logs": [Infinity]}',
    "an array": "[1, 2]",
    "a string": '"text"',
    "a number": "5",
    "null": "null",
    "wrong types": '{"pushToken": ["a1b2"], "logs": "a1b2"}',
    "wrong types inside": '{"pushToken": {"a": 1}, "logs": [{"a": 1}, 5]}',
    "invalid JSON": '{"pushToken": "a1b2", "logs": [',
    "not UTF-8": b'{"pushToken": "\xff\xfe", "logs": ["\xff"]}',
    "byte-order mark": '\ufeff{"pushToken": "a1b2", "logs": ["a"]}',
}


def test_bad_json_on_every_json_route_is_a_4xx_with_a_message_and_changes_nothing(
        make_app, wallet_files, merchant, caplog):
    app = make_app(**apple_settings(wallet_files), WALLET_ADDRESS_LIMIT="10000 per minute")
    client = app.test_client()
    with app.app_context():
        factories.points_program(merchant.merchant)
        card = apple_pass.ensure_identifiers(factories.card(merchant.merchant, "Jason Json"))
        passkit.register(card, "device-1", "a1b2c3d4")
        auth = {"Authorization": f"ApplePass {card.apple_auth_token}"}
        values = {"device": "device-1", "pass_type": PASS_TYPE, "serial": card.apple_serial_number,
                  "number": card.card_number, "order_reference": "ORDER-1"}  # the API's

        def registrations():
            db.session.commit()
            return db.session.execute(select(AppleRegistration.device_library_id,
                                             AppleRegistration.push_token)).all()

        before = registrations()
        routes = [(rule, method) for rule in _rules(app)
                  if getattr(app.view_functions[rule.endpoint], "accepts_json", False)
                  for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})]
        assert len(routes) >= 3, "the PassKit routes are JSON routes"
        failures = []
        for rule, method in routes:
            url = app.url_map.bind("localhost").build(rule.endpoint, {
                name: values[name] for name in rule.arguments})
            sent = [(label, body, "application/json") for label, body in BAD_JSON_BODIES.items()]
            sent.append(("not JSON", "pushToken=a1b2", "application/x-www-form-urlencoded"))
            for label, body, content_type in sent:
                response = client.open(url, method=method, data=body, content_type=content_type,
                                       headers=auth)
                answer = response.get_json(silent=True) if response.is_json else None
                message = (answer or {}).get("error") or (answer or {}).get("detail")  # API: problem
                if not 400 <= response.status_code < 500 or not message:
                    failures.append(f"{method} {rule.rule} {label}: {response.status_code} "
                                    f"{response.get_data(as_text=True)[:80]!r}")
        assert failures == []
        assert registrations() == before
        assert "Wallet device log" not in caplog.text
