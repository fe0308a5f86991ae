"""The tablet back online, through the test client (``blueprints/terminal/offline.py``): the
connection probe, the batch it sends (CSRF, shape, PIN, tenancy) and what staff read back, and
the counter page that hands the offline script its settings."""
import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import (
    AuditEntry,
    LoyaltyCard,
    LoyaltyTransaction,
    StaffPin,
    TransactionType,
)
from loyalty.services.engine import staff_pins
from loyalty.services.merchant import programs
from tests import factories

PING, SYNC = "/terminal/offline/ping", "/terminal/offline/sync"
OFFLINE_CONFIG = re.compile(
    r'<script type="application/json" id="offline-config"[^>]*>(.*?)</script>', re.DOTALL)


def kept(card, kind="stamp", *, at, scanned=None, **fields):
    """One action as the offline script sends it (``wire`` in ``static/js/offline.js``), the
    card named by its number unless ``scanned`` (a QR token) says otherwise."""
    action = {"key": fields.pop("key", uuid.uuid4().hex), "kind": kind,
              "card": scanned or card.card_number,
              "at": at.isoformat(), "staff_pin_id": fields.pop("staff_pin_id", None)}
    if kind == "stamp":
        action["quantity"] = fields.pop("quantity", 1)
    else:
        action["amount_cents"] = fields.pop("amount_cents", 1250)
    return {**action, **fields}


class Tablet:
    """The counter page's offline script: asks the probe for a token, then posts the batch."""

    def __init__(self, client):
        self.client = client

    def ping(self):
        return self.client.get(PING, headers={"Accept": "application/json"})

    def token(self):
        answer = self.ping()
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.json["csrf_token"]

    def sync(self, actions, *, token=True, **body):
        headers = {"Accept": "application/json"}
        if token is True:
            headers["X-CSRFToken"] = self.token()
        elif token:
            headers["X-CSRFToken"] = token
        return self.client.post(SYNC, json={"actions": actions, **body}, headers=headers)

    def post_raw(self, **request):
        return self.client.post(SYNC, headers={"X-CSRFToken": self.token(),
                                               "Accept": "application/json"}, **request)


@pytest.fixture
def tablet(terminal, merchant, frozen_clock):
    terminal.sign_in(merchant.staff)  # one store: the tablet's store needs no choosing
    return Tablet(terminal.client)


@pytest.fixture
def hybrid(merchant):
    """Stamps (5 for a reward, no cooldown) and 10 points a euro."""
    return factories.hybrid_program(merchant.merchant)


@pytest.fixture
def at(frozen_clock):
    return frozen_clock.now - timedelta(minutes=30)


def ledger_rows():
    """Rows that credit a card (the enrolment's ``card_created`` row is not one)."""
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.transaction_type != TransactionType.CARD_CREATED))


def offline_log():
    return db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action.like("offline.%")))


def fresh(card):
    db.session.expire_all()
    return db.session.get(LoyaltyCard, card.id)


# --- the probe -------------------------------------------------------------------------------

def test_signed_out_the_probe_and_the_sync_answer_401_in_json(client, merchant, hybrid):
    ping = client.get(PING)
    assert ping.status_code == 401 and ping.is_json  # not the sign-in page's redirect
    assert ping.json["error"].startswith("You are signed out. Sign in again to send the actions")
    sent = client.post(SYNC, json={"actions": []}, headers={"X-CSRFToken": "x"})
    assert sent.status_code == 401 and "they stay here meanwhile" in sent.json["error"]


def test_signed_in_the_probe_hands_a_fresh_token_for_this_store(tablet, merchant, hybrid):
    ping = tablet.ping()
    assert ping.status_code == 200
    assert ping.json["csrf_token"] and ping.json["store_id"] == merchant.stores[0].id
    assert ping.headers["Cache-Control"] == "no-store"  # never answered from a cache
    answer = tablet.sync([], token=ping.json["csrf_token"])
    assert answer.status_code == 200 and answer.json == {"results": [], "not_sent": []}


def test_a_tablet_whose_store_is_not_chosen_is_asked_to_choose_it(
        terminal, merchant, hybrid, at):
    terminal.sign_in(merchant.owner)  # the owner works at both stores: the device picks one
    ping = terminal.client.get(PING)
    assert ping.status_code == 409
    assert ping.json["error"] == "Choose this tablet's store first, then send the actions waiting."
    terminal.client.post("/terminal/store", data={"store_id": merchant.stores[1].id,
                                                  "csrf_token": terminal.token})
    assert Tablet(terminal.client).ping().json["store_id"] == merchant.stores[1].id


@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["no token", "wrong token"])
def test_a_sync_without_its_csrf_token_records_nothing(tablet, merchant, hybrid, at, token):
    card = factories.card(merchant.merchant)
    refused = tablet.sync([kept(card, at=at)], token=token)
    assert refused.status_code == 400 and refused.is_json
    assert refused.json["error"] == ("This tablet's page is out of date. It fetches a new one "
                                     "and sends the actions again.")
    assert fresh(card).stamp_count == 0 and ledger_rows() == 0


# --- a malformed batch is refused whole ------------------------------------------------------

def _deep(depth):
    return "[" * depth + "]" * depth


MALFORMED = {
    # name: (how the batch is changed, status, words of the answer)
    "not JSON": ("form", 415, "This call takes a JSON body."),
    "actions not a list": ({"actions": {"0": "stamp"}}, 422,
                           'Send the actions as a list under "actions".'),
    "a bad key": ({"key": "short key!"}, 422, "An action has no valid key."),
    "an unknown kind": ({"kind": "redeem"}, 422, "An action is neither a stamp nor a purchase."),
    "a huge amount": ({"kind": "earn", "amount_cents": 10**30}, 400,
                      "A number in the body is out of range."),
    "an amount above the limit": ({"kind": "earn", "amount_cents": 10**8}, 422,
                                  "An action's amount_cents is not a whole number between 1 "
                                  "and 10000000."),
    "a purchase without amount": ({"kind": "earn", "amount_cents": None}, 422,
                                  "An action's amount_cents is not a whole number"),
    "a negative quantity": ({"quantity": -2}, 422,
                            "An action's quantity is not a whole number between 1 and 20."),
    "true as quantity": ({"quantity": True}, 422, "An action's quantity is not a whole number"),
    "a quantity in text": ({"quantity": "3"}, 422, "An action's quantity is not a whole number"),
    "a NUL byte in the card": ({"card": "1234\x00-5678"}, 400, "The body holds a NUL character."),
    "no card": ({"card": "   "}, 422, "An action names no card."),
    "a time without zone": ({"at": "2026-06-15T09:30:00"}, 422,
                            "An action's time is not a date and time with its time zone."),
    "a time that is no time": ({"at": "yesterday"}, 422, "An action's time is not a date"),
    "a time before year 1 in UTC": ({"at": "0001-01-01T00:00:00+01:00"}, 422,
                                    "An action's time is not a date"),
    "a time after year 9999 in UTC": ({"at": "9999-12-31T23:59:59-05:00"}, 422,
                                      "An action's time is not a date"),
    "a staff id in text": ({"staff_pin_id": "1"}, 422, "An action's staff_pin_id is not"),
    "a PIN of letters": ("pin", 422, "A PIN is 4 to 8 digits."),
    "201 actions": ("201", 422, "Send at most 200 actions at once."),
    "two actions with one key": ("twice", 422, "Two actions share a key."),
    "deeply nested JSON": ("deep", 400, "The body is nested too deeply."),
    "over 64 KB": ("large", 413, "The body is too large for this call."),
}


def _malformed_request(change, good, card, at):
    """The request's keyword arguments for the test client: ``good`` spoiled by ``change``."""
    if change == "form":
        return {"data": {"actions": json.dumps([good])}}
    if change == "pin":
        return {"json": {"actions": [good], "staff_pin_id": 1, "pin": "12ab"}}
    if change == "201":
        return {"json": {"actions": [kept(card, at=at) for _ in range(201)]}}
    if change == "twice":
        return {"json": {"actions": [good, kept(card, at=at, key=good["key"])]}}
    if change == "deep":
        return {"data": '{"actions": [%s]}' % _deep(100), "content_type": "application/json"}
    if change == "large":
        return {"json": {"actions": [good], "note": "x" * (64 * 1024)}}
    if "actions" in change:
        return {"json": change}
    spoiled = {**good, **change}
    return {"json": {"actions": [good, {k: v for k, v in spoiled.items() if v is not None}]}}


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_a_malformed_batch_is_refused_whole_with_a_message(tablet, merchant, hybrid, at, case):
    change, status, words = MALFORMED[case]
    card = factories.card(merchant.merchant)
    good = kept(card, at=at)  # a well-formed action beside the bad one is not recorded either

    refused = tablet.post_raw(**_malformed_request(change, good, card, at))

    assert refused.status_code == status, refused.get_data(as_text=True)
    assert refused.is_json and refused.json["error"].startswith(words)
    assert "pin" not in refused.json  # the script does not ask for the PIN again
    assert fresh(card).stamp_count == 0 and ledger_rows() == 0 and offline_log() == 0


# --- a good batch ----------------------------------------------------------------------------

def test_a_batch_is_recorded_and_each_action_answers_with_the_new_balance(
        tablet, merchant, hybrid, at, frozen_clock):
    ida = factories.card(merchant.merchant, "Ida Stamp")
    pia = factories.card(merchant.merchant, "Pia Points")
    batch = [kept(ida, at=at, quantity=2),
             kept(pia, "earn", at=at + timedelta(minutes=1), amount_cents=1250,
                  scanned=pia.qr_token)]  # scanned: the answer names the card by its number

    answer = tablet.sync(batch)

    assert answer.status_code == 200 and answer.json["not_sent"] == []
    assert answer.json["results"] == [
        {"key": batch[0]["key"], "status": "accepted", "card_number": ida.card_number,
         "customer": "Ida Stamp", "message": "Stamp added. 2 stamps of 5.",
         "balance": "2 stamps of 5 · 0 points"},
        {"key": batch[1]["key"], "status": "accepted", "card_number": pia.card_number,
         "customer": "Pia Points", "message": "125 points added. New balance: 125 points.",
         "balance": "0 stamps of 5 · 125 points"},
    ]
    assert (fresh(ida).stamp_count, fresh(pia).points_balance) == (2, 125)
    rows = db.session.scalars(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type != TransactionType.CARD_CREATED)
        .order_by(LoyaltyTransaction.id)).all()
    assert [(row.offline, row.counter_at, row.transaction_at) for row in rows] == [
        (True, at, frozen_clock.now), (True, at + timedelta(minutes=1), frozen_clock.now)]
    assert offline_log() == 2


def test_the_same_batch_sent_again_answers_the_same_and_credits_once(
        tablet, merchant, hybrid, at, frozen_clock):
    card = factories.card(merchant.merchant, "Ida Stamp")
    batch = [kept(card, at=at), kept(card, "earn", at=at, amount_cents=500),
             kept(card, at=at + timedelta(minutes=5), quantity=3)]
    cut = tablet.sync(batch[:2])  # the connection dropped before the rest was sent
    frozen_clock.advance(minutes=2)

    whole = tablet.sync(batch)
    again = tablet.sync(batch)

    assert whole.json["results"][:2] == cut.json["results"]  # replayed word for word
    assert again.json == whole.json
    assert [r["message"] for r in again.json["results"]] == [
        "Stamp added. 1 stamp of 5.", "50 points added. New balance: 50 points.",
        "Stamp added. 4 stamps of 5."]
    assert (fresh(card).stamp_count, fresh(card).points_balance) == (4, 50)
    assert ledger_rows() == 3
    assert offline_log() == 3


@pytest.mark.parametrize("later", ["a day later", "offline mode switched off"])
def test_a_batch_recorded_then_sent_again_later_is_never_told_it_was_not_added(
        tablet, merchant, hybrid, frozen_clock, later):
    """The answer was lost (the connection cut during the sync) and the tablet sends the batch
    again when the action is over a day old, or after the owner switched offline mode off:
    it was added, so it says so. "Not added, enter it again" would have staff credit it
    twice."""
    card = factories.card(merchant.merchant, "Ida Stamp")
    batch = [kept(card, at=frozen_clock.now - timedelta(hours=23), quantity=2)]
    first = tablet.sync(batch)
    assert first.json["results"][0]["status"] == "accepted"
    if later == "a day later":
        frozen_clock.advance(hours=2)
    else:
        programs.update_program(hybrid, offline_enabled=False)

    again = tablet.sync(batch)

    assert again.json == first.json
    assert again.json["results"][0]["message"] == "Stamp added. 2 stamps of 5."
    assert fresh(card).stamp_count == 2 and ledger_rows() == 1


def test_another_merchants_card_is_not_found_and_stays_untouched(
        tablet, merchant, other_merchant, hybrid, at):
    factories.hybrid_program(other_merchant.merchant)
    theirs = factories.card(other_merchant.merchant, "Foreign Fred")
    ours = factories.card(merchant.merchant)
    rows_before = ledger_rows()

    answer = tablet.sync([kept(theirs, at=at), kept(theirs, "earn", at=at, scanned=theirs.qr_token),
                          kept(ours, at=at)])

    results = answer.json["results"]
    assert answer.status_code == 200
    assert [r["status"] for r in results] == ["refused", "refused", "accepted"]
    for refused in results[:2]:
        assert refused["message"] == ("No card found. Check the number or search by email "
                                      "or phone.")
        assert "Foreign Fred" not in json.dumps(refused)
    fred = fresh(theirs)
    assert (fred.stamp_count, fred.points_balance) == (0, 0)
    assert ledger_rows() == rows_before + 1 and fresh(ours).stamp_count == 1


def test_a_refusal_comes_back_with_its_reason_and_the_others_still_go_through(
        tablet, merchant, at, frozen_clock):
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=3)
    card = factories.card(merchant.merchant)
    answer = tablet.sync([kept(card, at=at, quantity=3),
                          kept(card, at=at + timedelta(minutes=1)),
                          kept(card, at=frozen_clock.now + timedelta(minutes=30))])
    results = answer.json["results"]
    assert [r["status"] for r in results] == ["accepted", "refused", "refused"]
    assert "daily limit of 3 stamps that day" in results[1]["message"]
    assert "clock was ahead" in results[2]["message"]
    assert results[1]["card_number"] == card.card_number
    assert fresh(card).stamp_count == 3


def test_with_the_program_switched_off_every_action_comes_back_refused(
        tablet, merchant, hybrid, at):
    card = factories.card(merchant.merchant)
    programs.deactivate_program(hybrid)
    answer = tablet.sync([kept(card, at=at), kept(card, "earn", at=at)])
    assert answer.status_code == 200
    assert {(r["status"], r["message"]) for r in answer.json["results"]} == {
        ("refused", "The loyalty program is not active at the moment.")}
    assert ledger_rows() == 0


# --- one PIN per batch -----------------------------------------------------------------------

class TestThePinRule:
    @pytest.fixture
    def staff(self, merchant):
        factories.stamp_program(merchant.merchant, require_staff_pin=True, cooldown_minutes=0)
        store = merchant.stores[0]
        return (staff_pins.create_staff_pin(merchant.merchant, store, "Anna", "1111"),
                staff_pins.create_staff_pin(merchant.merchant, store, "Ben", "2222"))

    @pytest.fixture
    def batch(self, merchant, staff, at):
        anna, ben = staff
        card = factories.card(merchant.merchant)
        return card, [kept(card, at=at, staff_pin_id=anna.id),
                      kept(card, at=at, staff_pin_id=ben.id, quantity=2)]

    def test_no_pin_is_asked_for_and_nothing_is_sent(self, tablet, batch):
        card, actions = batch
        refused = tablet.sync(actions)
        assert refused.status_code == 401
        assert refused.json == {"error": "Tap your name and enter your PIN to send the actions "
                                         "waiting.", "pin": True}
        assert fresh(card).stamp_count == 0 and offline_log() == 0

    def test_a_wrong_pin_is_refused_and_counts_toward_the_lockout(self, tablet, staff, batch):
        (anna, _ben), (card, actions) = staff, batch
        wrong = tablet.sync(actions, staff_pin_id=anna.id, pin="2222")  # Ben's, not hers
        assert wrong.status_code == 401
        assert wrong.json == {"error": "Wrong PIN. 4 attempts left before it locks.",
                              "pin": True}
        assert db.session.get(StaffPin, anna.id).failed_attempts == 1
        for _ in range(3):
            tablet.sync(actions, staff_pin_id=anna.id, pin="0000")
        locked = tablet.sync(actions, staff_pin_id=anna.id, pin="0000")
        assert locked.status_code == 423 and locked.json["pin"] is True
        assert "This PIN is locked until" in locked.json["error"]
        right_but_locked = tablet.sync(actions, staff_pin_id=anna.id, pin="1111")
        assert right_but_locked.status_code == 423
        assert fresh(card).stamp_count == 0 and offline_log() == 0

    def test_a_staff_member_not_at_this_store_is_refused(self, tablet, merchant, batch):
        elsewhere = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[1], "Eve",
                                                "3333")
        card, actions = batch
        refused = tablet.sync(actions, staff_pin_id=elsewhere.id, pin="3333")
        assert refused.status_code == 422 and refused.json["pin"] is True
        assert refused.json["error"] == "This staff member is not set up at this store."
        assert fresh(card).stamp_count == 0

    def test_the_right_pin_sends_its_own_actions_and_leaves_the_others(
            self, tablet, staff, batch, at, frozen_clock):
        (anna, ben), (card, actions) = staff, batch
        sent = tablet.sync(actions, staff_pin_id=anna.id, pin="1111")

        assert sent.status_code == 200
        assert [r["key"] for r in sent.json["results"]] == [actions[0]["key"]]
        assert sent.json["results"][0]["status"] == "accepted"
        assert sent.json["not_sent"] == [actions[1]["key"]]
        assert fresh(card).stamp_count == 1
        rows = db.session.scalars(select(LoyaltyTransaction).where(
            LoyaltyTransaction.card_id == card.id, LoyaltyTransaction.offline.is_(True))).all()
        assert [(row.staff_pin_id, row.counter_at, row.transaction_at) for row in rows] == [
            (anna.id, at, frozen_clock.now)]

        bens = tablet.sync(actions[1:], staff_pin_id=ben.id, pin="2222")
        assert bens.json["results"][0]["message"] == "Stamp added. 3 stamps of 10."
        assert fresh(card).stamp_count == 3


# --- the page that carries the offline settings ----------------------------------------------

def _offline_config(page):
    match = OFFLINE_CONFIG.search(page.get_data(as_text=True))
    return json.loads(match.group(1)) if match else None


def test_the_counter_page_carries_the_offline_settings_unless_switched_off(
        tablet, client, merchant):
    program = factories.stamp_program(merchant.merchant)
    config = _offline_config(client.get("/terminal/"))
    assert config is not None
    assert (config["ping_url"], config["sync_url"]) == (PING, SYNC)
    assert (config["max_actions"], config["store_id"]) == (50, merchant.stores[0].id)

    programs.update_program(program, offline_enabled=False)
    page = client.get("/terminal/")
    assert page.status_code == 200 and 'id="q"' in page.text  # the counter itself still works
    assert _offline_config(page) is None and "offline-status" not in page.text
