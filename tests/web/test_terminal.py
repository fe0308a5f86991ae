"""The counter screen through the test client: every action, refusal, page and fragment."""
import pytest
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.models import Customer, LoyaltyCard, LoyaltyTransaction, Role, TransactionType
from loyalty.services.engine import staff_pins
from loyalty.services.merchant import programs
from loyalty.services.platform import accounts
from tests import factories


def _ledger(kind):
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.transaction_type == kind))


@pytest.fixture
def stamp_card(merchant):
    factories.stamp_program(merchant.merchant, stamps_target=3)
    return factories.card(merchant.merchant, "Ida Stamp", email="ida@example.com")


@pytest.fixture
def points_card(merchant):
    program = factories.points_program(merchant.merchant, minimum_purchase_cents=100)
    card = factories.card(merchant.merchant, "Pia Points", email="pia@example.com")
    return card, {r.name: r.id for r in program.rewards}


@pytest.fixture
def staff_terminal(terminal, merchant):
    return terminal.sign_in(merchant.staff)


def test_staff_with_one_store_gets_the_terminal_of_that_store(staff_terminal, client, merchant):
    page = client.get("/terminal/")
    assert page.status_code == 200
    assert merchant.stores[0].name in page.text
    assert 'id="q"' in page.text and "<html" in page.text


def test_staff_see_only_their_open_live_stores(terminal, client, merchant):
    third = accounts.create_store(merchant.merchant, "Kiosk", "S3")
    for store in (merchant.stores[1], third):
        accounts.add_member(merchant.staff, merchant.merchant, Role.STORE_STAFF, store=store)
    terminal.auth.login_as(merchant.staff)
    assert client.get("/terminal/").location.startswith("/terminal/store")  # three stores
    merchant.stores[1].is_active = False
    db.session.commit()
    accounts.delete_record(third)
    page = client.get("/terminal/")  # one store left: no choice to make
    assert page.status_code == 200
    assert merchant.stores[0].name in page.text
    assert "Kiosk" not in page.text and merchant.stores[1].name not in page.text


def test_owner_chooses_the_store_once_per_device(terminal, client, merchant, other_merchant):
    terminal.auth.login_as(merchant.owner)
    first = client.get("/terminal/")
    assert first.status_code == 302 and first.location.startswith("/terminal/store")
    token = csrf_token = terminal.client.get("/terminal/store")
    from tests.conftest import csrf_token_from  # noqa: PLC0415
    token = csrf_token_from(csrf_token)
    assert client.post("/terminal/store", data={"store_id": other_merchant.stores[0].id,
                                                "csrf_token": token}).status_code == 404
    altered = client.post("/terminal/store", data={"store_id": "abc", "csrf_token": token})
    assert altered.status_code == 422
    assert "This form is out of date. Close it and open it again." in altered.text
    chosen = client.post("/terminal/store", data={"store_id": merchant.stores[1].id, "csrf_token": token})
    assert chosen.status_code == 302
    assert "terminal_store=" in chosen.headers["Set-Cookie"]
    assert merchant.stores[1].name in client.get("/terminal/").text


def test_find_by_number_returns_the_panel_as_fragment_or_page(staff_terminal, stamp_card):
    fragment = staff_terminal.find(stamp_card.card_number.replace("-", " "))
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "Ida Stamp" in fragment.text and 'class="stamp-grid"' in fragment.text
    page = staff_terminal.find(stamp_card.card_number.replace("-", ""), htmx=False)
    assert "<html" in page.text and "Ida Stamp" in page.text
    assert "HX-Request" in fragment.headers["Vary"]


def test_find_by_qr_token_email_phone_and_name(staff_terminal, merchant, stamp_card):
    factories.card(merchant.merchant, "Ida Other", email="ida.other@example.com")
    assert "Ida Stamp" in staff_terminal.find(stamp_card.qr_token).text
    assert 'class="stamp-grid"' in staff_terminal.find("IDA@example.com").text
    results = staff_terminal.find("ida")
    assert "Customers found" in results.text
    assert "Ida Stamp" in results.text and "Ida Other" in results.text


def test_unknown_and_foreign_cards_look_the_same(staff_terminal, other_merchant, stamp_card):
    factories.stamp_program(other_merchant.merchant)
    foreign = factories.card(other_merchant.merchant, "Foreign Fred", email="fred@example.com")
    unknown = staff_terminal.find("0000-0000-0000")
    theirs = staff_terminal.find(foreign.card_number)
    assert "No card found" in unknown.text
    assert theirs.text == unknown.text
    assert "No card found" in staff_terminal.find("fred@example.com").text


def test_add_stamp_updates_the_panel_with_a_banner(staff_terminal, stamp_card):
    response = staff_terminal.act(stamp_card.id, "stamp")
    assert response.status_code == 200
    assert "Stamp added. 1 stamp of 3." in response.text
    assert response.text.count("stamp filled") == 1
    assert 'id="sheet"' in response.text and 'hx-swap-oob="true"' in response.text


def test_a_double_tap_stamps_once_and_shows_the_same_result(staff_terminal, stamp_card):
    first = staff_terminal.act(stamp_card.id, "stamp", key="same-tap")
    second = staff_terminal.act(stamp_card.id, "stamp", key="same-tap")
    assert second.status_code == 200
    assert "Stamp added. 1 stamp of 3." in first.text and "Stamp added. 1 stamp of 3." in second.text
    assert _ledger(TransactionType.STAMP_EARNED) == 1


def test_cooldown_refusal_says_when_it_will_work(staff_terminal, stamp_card, frozen_clock):
    staff_terminal.act(stamp_card.id, "stamp")
    refused = staff_terminal.act(stamp_card.id, "stamp")
    assert refused.status_code == 409
    assert "The next stamp is possible in 15 min, at 12:15." in refused.text  # a LU shop: 24 h
    assert 'class="banner banner-error"' in refused.text


def test_redeem_stamp_reward_when_ready(merchant, staff_terminal, stamp_card, frozen_clock):
    programs.update_program(programs.live_program(merchant.id), cooldown_minutes=0)
    for _ in range(3):
        staff_terminal.act(stamp_card.id, "stamp")
    panel = staff_terminal.find(stamp_card.card_number)
    assert "Reward ready" in panel.text and "Give reward" in panel.text
    sheet = staff_terminal.sheet(stamp_card.id, "redeem-stamps")
    assert "This uses 3 stamps of the 3 on the card." in sheet.text
    done = staff_terminal.act(stamp_card.id, "redeem-stamps")
    assert "Reward given: A free coffee. 0 stamps left on the card." in done.text


def test_earn_points_with_the_keypad_amount(staff_terminal, points_card):
    card, _ = points_card
    sheet = staff_terminal.sheet(card.id, "earn")
    assert sheet.headers["HX-Retarget"] == "#sheet"
    assert 'data-keypad-for="amount"' in sheet.text
    done = staff_terminal.act(card.id, "earn", amount="12.50", order_reference="T-1")
    assert done.status_code == 200
    assert "125 points added. New balance: 125 points." in done.text
    again = staff_terminal.act(card.id, "earn", amount="3,00", order_reference="T-1")
    assert again.status_code == 409
    assert "Order T-1 already earned points. Nothing was added." in again.text


@pytest.mark.parametrize("amount", ["abc", "-5", "1.234", "", "NaN", "Infinity", "1e999", "1E+30"])
def test_a_bad_amount_is_refused_on_the_sheet(staff_terminal, points_card, amount):
    card, _ = points_card
    response = staff_terminal.act(card.id, "earn", amount=amount)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#sheet"
    assert "Enter an amount like 12.50." in response.text or "Enter the purchase amount." in response.text
    assert _ledger(TransactionType.POINTS_EARNED) == 0


def test_redeem_a_reward_after_confirming(staff_terminal, points_card):
    card, rewards = points_card
    staff_terminal.act(card.id, "earn", amount="10.00")  # 100 points
    sheet = staff_terminal.sheet(card.id, "redeem", reward_id=rewards["Croissant"])
    assert "Redeem Croissant for 50 points? The card has 100 points." in sheet.text
    done = staff_terminal.act(card.id, "redeem", reward_id=rewards["Croissant"])
    assert "Croissant redeemed for 50 points. New balance: 50 points." in done.text
    short = staff_terminal.act(card.id, "redeem", reward_id=rewards["Cake"])
    assert short.status_code == 409
    assert "Not enough points: Cake costs 200, this card has 50." in short.text


def test_void_a_purchase_for_a_return_within_bounds(staff_terminal, points_card):
    card, _ = points_card
    staff_terminal.act(card.id, "earn", amount="8.00")  # 80 points
    purchase = db.session.scalar(select(LoyaltyTransaction).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))
    panel = staff_terminal.find(card.card_number)
    assert f"transaction_id={purchase.id}" in panel.text
    sheet = staff_terminal.sheet(card.id, "void", transaction_id=purchase.id)
    assert "At most 80." in sheet.text
    over = staff_terminal.act(card.id, "void", transaction_id=purchase.id, amount=81)
    assert over.status_code == 409
    assert "At most 80 can still be voided for this transaction." in over.text
    done = staff_terminal.act(card.id, "void", transaction_id=purchase.id, amount=30)
    assert "30 points taken back. New balance: 50 points." in done.text


def test_another_merchants_reward_is_not_found_on_a_card_of_ours(
        staff_terminal, points_card, other_merchant):
    card, _ = points_card
    staff_terminal.act(card.id, "earn", amount="10.00")  # 100 points
    theirs = factories.points_program(other_merchant.merchant, rewards=(("Their bun", 10),)).rewards[0]
    refused = staff_terminal.act(card.id, "redeem", reward_id=theirs.id)
    unknown = staff_terminal.act(card.id, "redeem", reward_id=theirs.id + 1000)
    assert refused.status_code == unknown.status_code == 409  # the same as an unknown id
    assert "This reward is not available any more." in refused.text
    assert "Their bun" not in refused.text
    db.session.refresh(card)
    assert card.points_balance == 100
    assert _ledger(TransactionType.POINTS_REDEEMED) == 0


def test_void_of_a_stamp(staff_terminal, stamp_card):
    staff_terminal.act(stamp_card.id, "stamp")
    stamp = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
    done = staff_terminal.act(stamp_card.id, "void", transaction_id=stamp)
    assert "1 stamp taken back. Now 0 stamps." in done.text


def test_a_row_that_cannot_be_voided_says_so_on_the_panel(staff_terminal, stamp_card):
    created = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.CARD_CREATED))
    refused = staff_terminal.act(stamp_card.id, "void", transaction_id=created)
    assert refused.status_code == 404
    assert "This transaction cannot be voided: pick a purchase, stamp or reward of this card." in refused.text
    assert 'id="card-panel"' in refused.text
    assert _ledger(TransactionType.STAMP_VOIDED) == 0


@pytest.fixture
def card(merchant):
    """A card of a program that asks for a staff PIN on every action."""
    factories.stamp_program(merchant.merchant, require_staff_pin=True)
    return factories.card(merchant.merchant, "Pin Paul", email="paul@example.com")


class TestStaffPin:
    @pytest.fixture
    def tom(self, merchant):
        return staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")

    def test_the_stamp_button_opens_the_pin_pad(self, staff_terminal, card, tom):
        panel = staff_terminal.find(card.card_number)
        assert f"/terminal/cards/{card.id}/sheet/stamp" in panel.text
        sheet = staff_terminal.sheet(card.id, "stamp")
        assert 'data-keypad-for="pin"' in sheet.text and "Tom" in sheet.text
        assert f'value="{tom.id}" checked' in sheet.text  # the only staff member is preselected

    def test_missing_wrong_locked_then_right_pin(self, staff_terminal, card, tom, frozen_clock):
        missing = staff_terminal.act(card.id, "stamp")
        assert missing.status_code == 401 and "Enter your staff PIN to continue." in missing.text
        wrong = staff_terminal.act(card.id, "stamp", pin="9999", staff_pin_id=tom.id)
        assert wrong.status_code == 401
        assert "Wrong PIN. 4 attempts left before it locks." in wrong.text
        assert wrong.headers["HX-Retarget"] == "#sheet"
        for _ in range(3):
            staff_terminal.act(card.id, "stamp", pin="9999", staff_pin_id=tom.id)
        locked = staff_terminal.act(card.id, "stamp", pin="9999", staff_pin_id=tom.id)
        assert locked.status_code == 423
        assert "This PIN is locked until 12:30" in locked.text
        assert staff_terminal.act(card.id, "stamp", pin="1234", staff_pin_id=tom.id).status_code == 423
        staff_pins.unlock_staff_pin(tom)
        right = staff_terminal.act(card.id, "stamp", pin="1234", staff_pin_id=tom.id)
        assert right.status_code == 200 and "Stamp added. 1 stamp of 10." in right.text
        row = db.session.scalar(select(LoyaltyTransaction).where(
            LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
        assert row.staff_pin_id == tom.id

    def test_a_wrong_pin_keeps_the_same_idempotency_key(self, staff_terminal, card, tom):
        wrong = staff_terminal.act(card.id, "stamp", key="key-123", pin="0000", staff_pin_id=tom.id)
        assert 'name="idempotency_key" value="key-123"' in wrong.text

    def test_too_many_wrong_pins_from_one_terminal_are_rate_limited(self, make_app, merchant, card, tom):
        from tests.conftest import AuthActions, Terminal  # noqa: PLC0415

        app = make_app(PIN_FAILURE_LIMIT="3 per minute")
        client = app.test_client()
        terminal = Terminal(client, AuthActions(client))
        with app.app_context():
            terminal.sign_in(merchant.staff)
        # A PIN typed without a name tapped is not checked, so it is no guess and costs nothing.
        untried = terminal.act(card.id, "stamp", pin="5999")
        assert untried.status_code == 401 and "Tap your name, then enter your PIN." in untried.text
        statuses = [terminal.act(card.id, "stamp", pin=f"{5000 + i}",
                                 staff_pin_id=tom.id).status_code for i in range(4)]
        assert statuses == [401, 401, 401, 429]



class TestUnlockAtTheTerminal:
    @pytest.fixture
    def tom(self, merchant, staff_terminal, card, frozen_clock):
        """Tom's PIN, locked by five wrong tries at this terminal."""
        tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
        for _ in range(5):
            staff_terminal.act(card.id, "stamp", pin="9999", staff_pin_id=tom.id)
        return tom

    @pytest.fixture
    def lena(self, merchant):
        lena = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Lena", "5678")
        return staff_pins.update_staff_pin(lena, "Lena", can_unlock=True)

    def _unlock(self, terminal, card, tom, **data):
        return terminal.client.post(
            f"/terminal/cards/{card.id}/unlock/{tom.id}?kind=stamp", data=data,
            headers={**terminal.HTMX, "X-CSRFToken": terminal.token})

    def test_the_lock_message_offers_the_unlock_sheet(self, staff_terminal, card, tom, lena):
        locked = staff_terminal.act(card.id, "stamp", pin="1234", staff_pin_id=tom.id)
        assert locked.status_code == 423
        assert ("A manager or the owner can unlock it here with their password or a manager PIN."
                in locked.text)
        assert f"/terminal/cards/{card.id}/unlock/{tom.id}?kind=stamp" in locked.text
        sheet = staff_terminal.client.get(f"/terminal/cards/{card.id}/unlock/{tom.id}?kind=stamp",
                                          headers=staff_terminal.HTMX)
        assert "Unlock Tom's PIN" in sheet.text and "Lena" in sheet.text
        assert f'value="{tom.id}"' not in sheet.text  # only manager PINs are offered

    def test_a_manager_pin_unlocks_and_the_action_goes_through(self, staff_terminal, card, tom,
                                                                lena):
        done = self._unlock(staff_terminal, card, tom, staff_pin_id=lena.id, pin="5678")
        assert done.status_code == 200 and "Tom&#39;s PIN works again." in done.text
        assert f'value="{tom.id}" checked' in done.text  # back on the stamp sheet, Tom picked
        right = staff_terminal.act(card.id, "stamp", pin="1234", staff_pin_id=tom.id)
        assert right.status_code == 200 and "Stamp added." in right.text

    def test_a_pin_that_is_not_a_managers_cannot_unlock(self, merchant, staff_terminal, card, tom):
        staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Max", "4321")
        max_id = staff_pins.staff_pins_at(merchant.id, merchant.stores[0].id)[0].id
        refused = self._unlock(staff_terminal, card, tom, staff_pin_id=max_id, pin="4321")
        assert refused.status_code == 409
        assert "Max&#39;s PIN cannot unlock PINs." in refused.text
        db.session.refresh(tom)
        assert tom.locked_until is not None

    def test_a_managers_password_unlocks_a_staff_members_does_not(self, merchant, staff_terminal,
                                                                  card, tom):
        wrong = self._unlock(staff_terminal, card, tom, email=merchant.manager.email,
                             password="not-it-at-all")
        assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
        staff = self._unlock(staff_terminal, card, tom, email=merchant.staff.email,
                             password=factories.PASSWORD)
        assert staff.status_code == 409
        assert "Only the owner or a manager of this store can unlock a PIN." in staff.text
        empty = self._unlock(staff_terminal, card, tom)
        assert empty.status_code == 422 and "enter a manager's email and password" in empty.text
        signed_in_before = merchant.manager.last_login_at
        done = self._unlock(staff_terminal, card, tom, email=merchant.manager.email,
                            password=factories.PASSWORD)
        assert done.status_code == 200 and "Tom&#39;s PIN works again." in done.text
        db.session.refresh(tom)
        assert (tom.locked_until, tom.failed_attempts) == (None, 0)
        db.session.refresh(merchant.manager)
        assert merchant.manager.last_login_at == signed_in_before  # a confirmation, no sign-in

def test_enroll_at_the_counter_shows_the_new_card(staff_terminal, merchant, stamp_card):
    sheet = staff_terminal.client.get("/terminal/enroll", headers={"HX-Request": "true"})
    assert sheet.headers["HX-Retarget"] == "#sheet" and 'name="name"' in sheet.text
    done = staff_terminal.enroll(name="Nina New", email="nina@example.com", language="fr")
    assert done.status_code == 200
    card = db.session.scalar(select(LoyaltyCard).join(LoyaltyCard.customer).where(
        LoyaltyCard.merchant_id == merchant.id).order_by(LoyaltyCard.id.desc()))
    assert f"Welcome! Card {card.card_number} is ready." in done.text
    assert card.enrolled_at_store_id == merchant.stores[0].id


def test_enroll_refusals_say_what_to_do(staff_terminal, stamp_card):
    nothing = staff_terminal.enroll(name="No Contact", language="en")
    assert nothing.status_code == 422
    assert "Enter an email address or a phone number." in nothing.text
    duplicate = staff_terminal.enroll(name="Ida Again", email="ida@example.com", language="en")
    assert duplicate.status_code == 200  # the existing card opens instead of a dead end
    assert "This customer already has a card: here it is." in duplicate.text
    assert stamp_card.card_number in duplicate.text and 'id="card-panel"' in duplicate.text
    assert "HX-Retarget" not in duplicate.headers  # the panel replaces the workspace


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_an_altered_enrollment_form_is_refused_and_creates_nothing(staff_terminal, stamp_card, key):
    refused = staff_terminal.enroll(name="Tina Tamper", email="tina@example.com", language="en",
                                    idempotency_key=key)
    assert refused.status_code == 422
    assert "This form is out of date. Close it and open it again." in refused.text
    assert _ledger(TransactionType.CARD_CREATED) == 1  # Ida's card only


def test_a_repeated_enrollment_submit_creates_one_card(staff_terminal, stamp_card):
    first = staff_terminal.enroll(name="Olga Once", phone="+352 691 000 111", language="lb",
                                  idempotency_key="enroll-1")
    second = staff_terminal.enroll(name="Olga Once", phone="+352 691 000 111", language="lb",
                                   idempotency_key="enroll-1")
    assert first.status_code == second.status_code == 200
    assert _ledger(TransactionType.CARD_CREATED) == 2  # Ida's card and Olga's, once


def test_an_idempotency_key_used_on_one_card_is_refused_on_another(staff_terminal, merchant, points_card):
    card, _ = points_card
    other = factories.card(merchant.merchant, "Otto Other", email="otto@example.com")
    staff_terminal.act(card.id, "earn", key="one-form", amount="10.00")
    reused = staff_terminal.act(other.id, "earn", key="one-form", amount="10.00")
    assert reused.status_code == 409
    assert "This form was already used for another card." in reused.text
    assert _ledger(TransactionType.POINTS_EARNED) == 1


def test_out_of_range_ids_and_nul_bytes_are_bad_input_not_errors(staff_terminal, points_card):
    card, _ = points_card
    huge = "99999999999999999999"
    assert staff_terminal.client.get(f"/terminal/cards/{huge}", headers=staff_terminal.HTMX).status_code == 404
    assert staff_terminal.act(card.id, "redeem", reward_id=huge).status_code == 422
    assert staff_terminal.act(card.id, "void", transaction_id=huge).status_code == 422
    assert staff_terminal.find("abc\x00def").status_code == 400


@pytest.mark.parametrize("key", [None, "", "has spaces", "k" * 65, "ключ"])
def test_an_action_without_its_rendered_key_is_refused_and_stamps_nothing(staff_terminal, stamp_card,
                                                                          key):
    """Two keyless posts used to get a fresh key each and stamp twice."""
    data = {} if key is None else {"idempotency_key": key}
    for _ in range(2):
        refused = staff_terminal.client.post(
            f"/terminal/cards/{stamp_card.id}/stamp", data=data,
            headers={**staff_terminal.HTMX, "X-CSRFToken": staff_terminal.token})
        assert refused.status_code == 422
        assert "This form is out of date. Close it and open it again." in refused.text
    assert _ledger(TransactionType.STAMP_EARNED) == 0


def test_an_htmx_request_for_the_terminal_page_gets_the_page(staff_terminal):
    """A crafted HX-Request header on the page URL used to render the card panel without a card."""
    page = staff_terminal.client.get("/terminal/", headers=staff_terminal.HTMX)
    assert page.status_code == 200 and 'id="q"' in page.text


@pytest.mark.parametrize("amount", ["1" * 400, "-3", "2.5", "١٢"])
def test_a_void_amount_that_is_not_a_whole_number_is_refused_on_the_sheet(staff_terminal, stamp_card,
                                                                          amount):
    staff_terminal.act(stamp_card.id, "stamp")
    row = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
    refused = staff_terminal.act(stamp_card.id, "void", transaction_id=row, amount=amount)
    assert refused.status_code == 422
    assert "Void a whole number, at least 1." in refused.text
    assert _ledger(TransactionType.STAMP_VOIDED) == 0


def test_a_retried_earn_replays_its_first_answer_after_a_redemption(staff_terminal, points_card):
    """The replay is built from the first ledger row, not from today's balance."""
    card, rewards = points_card
    first = staff_terminal.act(card.id, "earn", key="earn-once", amount="10.00")
    assert "100 points added. New balance: 100 points." in first.text
    staff_terminal.act(card.id, "redeem", reward_id=rewards["Croissant"])
    retried = staff_terminal.act(card.id, "earn", key="earn-once", amount="10.00")
    assert retried.status_code == 200
    assert "100 points added. New balance: 100 points." in retried.text
    assert _ledger(TransactionType.POINTS_EARNED) == 1


def test_three_stamps_in_one_go_within_the_daily_cap(staff_terminal, merchant, frozen_clock):
    factories.stamp_program(merchant.merchant, stamps_target=10, cooldown_minutes=0,
                            max_stamps_per_day=5)
    card = factories.card(merchant.merchant, "Tri Tom", email="tri@example.com")
    sheet = staff_terminal.sheet(card.id, "stamp")
    assert 'name="quantity"' in sheet.text and 'data-max="5"' in sheet.text
    three = staff_terminal.act(card.id, "stamp", quantity="3")
    assert three.status_code == 200 and "Stamp added. 3 stamps of 10." in three.text
    too_many = staff_terminal.act(card.id, "stamp", quantity="3")
    assert too_many.status_code == 409
    assert "Only 2 more stamps are possible on this card today." in too_many.text
    assert 'data-max="2"' in staff_terminal.sheet(card.id, "stamp").text
    assert db.session.get(LoyaltyCard, card.id).stamp_count == 3


def test_voiding_the_stamp_that_started_the_cooldown_lifts_it(staff_terminal, merchant,
                                                              frozen_clock):
    factories.stamp_program(merchant.merchant, cooldown_minutes=15)
    card = factories.card(merchant.merchant, "Cool Carl", email="carl@example.com")
    staff_terminal.act(card.id, "stamp")
    waiting = staff_terminal.act(card.id, "stamp")
    assert waiting.status_code == 409 and "less than 15 minutes ago" in waiting.text
    stamp_row = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_EARNED))
    assert staff_terminal.act(card.id, "void", transaction_id=stamp_row).status_code == 200
    again = staff_terminal.act(card.id, "stamp")
    assert again.status_code == 200 and "Stamp added. 1 stamp of 10." in again.text


def test_staff_void_within_the_window_and_a_manager_after_it(terminal, client, auth, merchant,
                                                             points_card, frozen_clock):
    card, _rewards = points_card
    staff = terminal.sign_in(merchant.staff)
    staff.act(card.id, "earn", amount="10.00")
    earned = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))
    frozen_clock.advance(days=15)
    staff = terminal.sign_in(merchant.staff)  # the old session went idle long ago
    panel = staff.client.get(f"/terminal/cards/{card.id}", headers=staff.HTMX)
    assert "Over 14 days old: a manager can void it" in panel.text
    refused = staff.act(card.id, "void", transaction_id=earned, amount="10")
    assert refused.status_code == 409
    assert "This was more than 14 days ago: a manager or owner can void it." in refused.text
    auth.logout()
    manager = terminal.sign_in(merchant.manager)
    assert "Over 14 days old" not in manager.client.get(f"/terminal/cards/{card.id}",
                                                         headers=manager.HTMX).text
    assert manager.act(card.id, "void", transaction_id=earned, amount="10").status_code == 200
    assert _ledger(TransactionType.POINTS_VOIDED) == 1


@pytest.mark.parametrize("typed", ["621 100 002", "00352 621 100 002", "+352 621-100-002",
                                   "+352621100002", "(+352) 621 100 002"])
def test_a_phone_number_in_any_usual_form_finds_the_card(staff_terminal, merchant, typed):
    factories.stamp_program(merchant.merchant)
    factories.card(merchant.merchant, "Phone Phil", email=None, phone="621 100 002")
    found = staff_terminal.find(typed)
    assert found.status_code == 200 and "Phone Phil" in found.text


@pytest.mark.parametrize("typed", ["chloe", "CHLOÉ", "Chloe Mul", "müller"])
def test_names_are_found_without_accents_or_case(staff_terminal, merchant, typed):
    factories.stamp_program(merchant.merchant)
    factories.card(merchant.merchant, "Chloé Müller", email="chloe.mueller@example.com")
    found = staff_terminal.find(typed)
    assert "Chloé Müller" in found.text


def test_phones_are_stored_in_e164_and_a_bad_one_is_refused(staff_terminal, merchant):
    factories.stamp_program(merchant.merchant)
    staff_terminal.enroll(name="Ella E164", phone="00352 691 000 222", language="lb")
    customer = db.session.scalar(select(Customer).where(Customer.name == "Ella E164"))
    assert customer.phone == "+352691000222"
    refused = staff_terminal.enroll(name="Bad Phone", phone="12", language="lb")
    assert refused.status_code == 422
    assert "Enter a phone number like 621 123 456 or +352 621 123 456." in refused.text


def test_a_given_stamp_reward_is_undone_from_the_history(merchant, staff_terminal, stamp_card,
                                                         frozen_clock):
    programs.update_program(programs.live_program(merchant.id), cooldown_minutes=0)
    staff_terminal.act(stamp_card.id, "stamp", quantity="3")
    staff_terminal.act(stamp_card.id, "redeem-stamps")
    given = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.STAMP_REDEEMED))
    panel = staff_terminal.find(stamp_card.card_number)
    assert ">Undo</button>" in panel.text
    sheet = staff_terminal.sheet(stamp_card.id, "void", transaction_id=given)
    assert "Give back 3 stamps to the card? The reward counts as not given." in sheet.text
    assert "Undo reward" in sheet.text and "data-keypad-for" not in sheet.text
    done = staff_terminal.act(stamp_card.id, "void", transaction_id=given)
    assert "Reward undone: 3 stamps back on the card, now 3." in done.text
    assert "Reward ready" in done.text
    again = staff_terminal.act(stamp_card.id, "void", transaction_id=given)
    assert again.status_code == 409 and "already voided in full" in again.text
    db.session.refresh(stamp_card)
    assert (stamp_card.stamp_count, stamp_card.rewards_redeemed_total) == (3, 0)


def test_undoing_a_catalogue_reward_follows_the_void_window(terminal, auth, merchant, points_card,
                                                            frozen_clock):
    card, rewards = points_card
    staff = terminal.sign_in(merchant.staff)
    staff.act(card.id, "earn", amount="20.00")
    staff.act(card.id, "redeem", reward_id=rewards["Croissant"])
    given = db.session.scalar(select(LoyaltyTransaction.id).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_REDEEMED))
    frozen_clock.advance(days=15)
    staff = terminal.sign_in(merchant.staff)
    panel = staff.client.get(f"/terminal/cards/{card.id}", headers=staff.HTMX)
    assert "Over 14 days old: a manager can undo it" in panel.text
    refused = staff.act(card.id, "void", transaction_id=given)
    assert refused.status_code == 409 and "a manager or owner can void it" in refused.text
    auth.logout()
    manager = terminal.sign_in(merchant.manager)
    done = manager.act(card.id, "void", transaction_id=given)
    assert "Reward undone: 50 points back. New balance: 200 points." in done.text
    assert _ledger(TransactionType.POINTS_REWARD_VOIDED) == 1
