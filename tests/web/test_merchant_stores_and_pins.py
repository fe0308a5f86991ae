"""Owners manage stores; owners and managers manage staff PINs (managers at their own stores)."""
import re

import pytest
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import AuditEntry, Role, StaffPin, Store, check_secret, soft_delete_cascade
from loyalty.services.audit import Actor
from loyalty.services.engine import staff_pins
from loyalty.services.errors import NotFound
from loyalty.services.merchant import stores
from loyalty.services.platform import accounts
from tests.conftest import csrf_token_from

REVEALED = re.compile(r'data-testid="revealed-pin">(\d{4})<')


def _post(client, url, data=None, **kwargs):
    token = csrf_token_from(client.get("/account"))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def test_an_owner_adds_edits_closes_and_reopens_a_store(auth, client, merchant):
    auth.login_as(merchant.owner)
    added = _post(client, "/merchant/stores", {"name": "Kiosk", "code": "kiosk",
                                               "phone": "+352 621 12 34", "opening_note": "7-14h"})
    assert added.status_code == 302
    kiosk = db.session.scalar(select(Store).where(Store.code == "KIOSK"))
    assert kiosk.phone == "+3526211234" and kiosk.opening_note == "7-14h"
    edited = _post(client, f"/merchant/stores/{kiosk.id}", {"name": "Kiosk Gare", "code": "KIOSK"})
    assert edited.status_code == 302
    assert _post(client, f"/merchant/stores/{kiosk.id}/close").status_code == 302
    db.session.expire_all()
    assert not db.session.get(Store, kiosk.id).is_active
    assert "Closed" in client.get("/merchant/stores").text
    _post(client, f"/merchant/stores/{kiosk.id}/reopen")
    db.session.expire_all()
    assert db.session.get(Store, kiosk.id).is_active
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["store.create", "store.update", "store.close", "store.reopen"]


def test_a_taken_store_code_is_refused_next_to_the_field(auth, client, merchant):
    auth.login_as(merchant.owner)
    refused = _post(client, "/merchant/stores", {"name": "Copy", "code": "s1"})
    assert refused.status_code == 422
    assert "Another of your open stores already uses this code. Choose another." in refused.text
    assert db.session.scalar(select(Store).where(Store.name == "Copy")) is None


def test_a_store_without_name_or_with_a_bad_code_is_refused(auth, client, merchant):
    auth.login_as(merchant.owner)
    refused = _post(client, "/merchant/stores", {"name": "", "code": "no spaces!"})
    assert refused.status_code == 422
    assert "Give the store a name." in refused.text
    assert "Use letters, digits and dashes only, up to 32." in refused.text


def test_a_new_pin_is_shown_once_and_works(auth, client, merchant):
    auth.login_as(merchant.owner)
    created = _post(client, "/merchant/pins", {"staff_name": "Nina",
                                               "store_id": str(merchant.stores[1].id)})
    assert created.status_code == 200
    pin = REVEALED.search(created.text).group(1)
    nina = db.session.scalar(select(StaffPin).where(StaffPin.staff_name == "Nina"))
    assert nina.store_id == merchant.stores[1].id and check_secret(pin, nina.pin_hash)
    assert pin not in client.get("/merchant/pins").text.replace(str(nina.id), "")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "pin.create"))
    assert pin not in str(entry.changes)  # the audit trail never holds the PIN


def test_a_reset_pin_is_shown_once_and_replaces_the_old_one(auth, client, merchant):
    tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
    auth.login_as(merchant.owner)
    reset = _post(client, f"/merchant/pins/{tom.id}/reset")
    pin = REVEALED.search(reset.text).group(1)
    db.session.expire_all()
    tom = db.session.get(StaffPin, tom.id)
    assert check_secret(pin, tom.pin_hash)
    if pin != "1234":  # one draw in 10,000 gives the same PIN again
        assert not check_secret("1234", tom.pin_hash)


def test_a_locked_pin_is_unlocked_and_a_removed_one_stops_working(auth, client, merchant,
                                                                  frozen_clock):
    tom = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
    for _ in range(5):
        with pytest.raises(Exception):  # noqa: B017 - wrong, then locked
            staff_pins.verify_staff_pin(merchant.id, merchant.stores[0].id, "9999",
                                        staff_pin_id=tom.id)
    auth.login_as(merchant.owner)
    page = client.get("/merchant/pins").text
    assert "Locked until" in page and "Unlock" in page
    _post(client, f"/merchant/pins/{tom.id}/unlock")
    assert staff_pins.verify_staff_pin(merchant.id, merchant.stores[0].id, "1234",
                                       staff_pin_id=tom.id).id == tom.id
    _post(client, f"/merchant/pins/{tom.id}/deactivate")
    with pytest.raises(NotFound):
        staff_pins.verify_staff_pin(merchant.id, merchant.stores[0].id, "1234", staff_pin_id=tom.id)


def test_a_manager_manages_only_the_pins_of_their_store(auth, client, merchant):
    mine = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Tom", "1234")
    theirs = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[1], "Lisa", "2345")
    auth.login_as(merchant.manager)
    page = client.get("/merchant/pins").text
    assert "Tom" in page and "Lisa" not in page
    assert f'value="{merchant.stores[1].id}"' not in page  # cannot add at the other store
    assert client.get(f"/merchant/pins/{theirs.id}").status_code == 404
    assert _post(client, f"/merchant/pins/{theirs.id}/reset").status_code == 404
    assert _post(client, f"/merchant/pins/{theirs.id}/deactivate").status_code == 404
    refused = _post(client, "/merchant/pins", {"staff_name": "Sneaky",
                                               "store_id": str(merchant.stores[1].id)})
    assert refused.status_code == 422 and "Choose one of your stores." in refused.text
    assert _post(client, f"/merchant/pins/{mine.id}/reset").status_code == 200
    assert client.get("/merchant/stores").status_code == 403


def test_the_pin_services_check_the_scope_themselves(merchant, other_merchant):
    """Seed requirement: not only the views check that a PIN belongs to the acting merchant
    and, for a manager, to one of their stores."""
    lisa = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[1], "Lisa", "2345")
    manager = Actor(user_id=merchant.manager.id, merchant_id=merchant.id,
                    store_ids=frozenset({merchant.stores[0].id}))
    stranger = Actor(user_id=other_merchant.owner.id, merchant_id=other_merchant.id)
    for actor in (manager, stranger):
        for call in (lambda a: staff_pins.reset_staff_pin(lisa, actor=a),
                     lambda a: staff_pins.update_staff_pin(lisa, "X", actor=a),
                     lambda a: staff_pins.unlock_staff_pin(lisa, actor=a),
                     lambda a: staff_pins.deactivate_staff_pin(lisa, actor=a),
                     lambda a: staff_pins.issue_staff_pin(merchant.stores[1], "Y", actor=a)):
            with pytest.raises(NotFound):
                call(actor)
    db.session.expire_all()
    assert db.session.get(StaffPin, lisa.id).staff_name == "Lisa"


def test_staff_cannot_open_pins_or_stores(auth, client, merchant):
    auth.login_as(merchant.staff)
    assert client.get("/merchant/pins").status_code == 403
    assert client.get("/merchant/stores").status_code == 403


def test_a_second_pin_for_the_same_name_at_a_store_is_refused(auth, client, merchant):
    auth.login_as(merchant.owner)
    data = {"staff_name": "Nina", "store_id": str(merchant.stores[0].id)}
    assert REVEALED.search(_post(client, "/merchant/pins", data).text)
    again = _post(client, "/merchant/pins", {**data, "staff_name": "nina "})  # a form sent twice
    assert again.status_code == 422 and not REVEALED.search(again.text)
    assert "nina already has a PIN at this store. Give them a new PIN instead." in again.text


def test_a_manager_who_is_also_staff_elsewhere_manages_only_their_own_store(auth, client, merchant):
    """Staff at a second store gives no manager powers there."""
    accounts.add_member(merchant.manager, merchant.merchant, Role.STORE_STAFF,
                        store=merchant.stores[1])
    lisa = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[1], "Lisa", "2345")
    auth.login_as(merchant.manager)
    assert "Lisa" not in client.get("/merchant/pins").text
    assert _post(client, f"/merchant/pins/{lisa.id}/reset").status_code == 404
    assert client.get("/merchant/stats", query_string={"store": merchant.stores[1].id}).status_code == 404


def test_an_owner_marks_a_manager_pin(auth, client, merchant):
    auth.login_as(merchant.owner)
    lisa = staff_pins.create_staff_pin(merchant.merchant, merchant.stores[0], "Lisa", "4567")
    page = client.get(f"/merchant/pins/{lisa.id}")
    assert "Manager PIN: unlocks a locked PIN and voids older rows at the terminal" in page.text
    saved = _post(client, f"/merchant/pins/{lisa.id}", {"staff_name": "Lisa", "can_unlock": "y"})
    assert saved.status_code == 302
    db.session.refresh(lisa)
    assert lisa.can_unlock
    assert "Manager PIN</span>" in client.get("/merchant/pins").text
    _post(client, f"/merchant/pins/{lisa.id}", {"staff_name": "Lisa"})  # unticked
    db.session.refresh(lisa)
    assert not lisa.can_unlock


def test_a_pin_of_a_closed_or_deleted_store_is_not_shown_as_working(auth, client, merchant):
    closing, deleted = merchant.stores
    staff_pins.create_staff_pin(merchant.merchant, closing, "Carla Closed", "2468")
    staff_pins.create_staff_pin(merchant.merchant, deleted, "Dora Deleted", "1357")
    stores.set_store_open(closing, False)
    soft_delete_cascade(db.session.get(Store, deleted.id))  # as the admin's delete does
    db.session.commit()
    auth.login_as(merchant.owner)
    page = client.get("/merchant/pins")
    assert page.status_code == 200
    row = page.text[page.text.index("Carla Closed"):]
    row = row[:row.index("</tr>")]
    assert "Not usable: the store is closed" in row and "Works" not in row
    assert "Dora Deleted" not in page.text
