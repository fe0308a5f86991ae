"""Idempotency-Key on every POST: the same key and body give the first answer again (marked
``Idempotent-Replayed: true``), another body is a 422, a request still running is a 409; the
answers are forgotten by the hourly purge after their keeping time."""
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from loyalty.extensions import db
from loyalty.jobs import SCHEDULE
from loyalty.jobs.integrations import purge_idempotency_keys
from loyalty.models import ApiIdempotencyKey, LoyaltyTransaction, TransactionType
from loyalty.services.integrations import idempotency, orders
from tests import factories


@pytest.fixture
def bakery(merchant):
    factories.points_program(merchant.merchant)
    return merchant


def _earned():
    db.session.commit()  # what the served requests committed, not this session's snapshot
    return db.session.scalar(select(func.count(LoyaltyTransaction.id)).where(
        LoyaltyTransaction.transaction_type == TransactionType.POINTS_EARNED))


def _purchase(reference="I-1", amount="12.50"):
    return {"order_reference": reference, "amount": amount, "currency": "EUR"}


def test_the_same_key_and_body_give_the_first_status_and_body_again(api, bakery):
    card = factories.card(bakery.merchant)
    path = f"/cards/{card.card_number}/purchases"
    first = api.post(path, json=_purchase(), key="till-2-0001")
    again = api.post(path, json=_purchase(), key="till-2-0001")
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _earned() == 1


def test_a_refusal_is_kept_for_the_key_too(api, bakery):
    card = factories.card(bakery.merchant)
    path = f"/cards/{card.card_number}/purchases"
    first = api.post(path, json=_purchase(amount="0.05"), key="small")  # too small: 409
    again = api.post(path, json=_purchase(amount="0.05"), key="small")
    assert first.status_code == again.status_code == 409
    assert again.get_data() == first.get_data()
    assert again.mimetype == "application/problem+json"
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_or_path_is_a_422(api, bakery):
    card = factories.card(bakery.merchant)
    path = f"/cards/{card.card_number}/purchases"
    assert api.post(path, json=_purchase(), key="k1").status_code == 201
    other = api.post(path, json=_purchase(amount="13.00"), key="k1")
    assert other.status_code == 422
    assert other.json["detail"] == ("This Idempotency-Key was already used for another "
                                    "request. Use a new key for a new request.")
    elsewhere = api.post("/orders/I-1/refunds", json={"amount": "1.00"}, key="k1")
    assert elsewhere.status_code == 422
    assert _earned() == 1


@pytest.mark.parametrize("key", ["x" * 256, "bad\x01key"])
def test_a_key_that_is_not_one_is_a_422(api, bakery, key):
    card = factories.card(bakery.merchant)
    response = api.post(f"/cards/{card.card_number}/purchases", json=_purchase(), key=key)
    assert response.status_code in (400, 422)
    assert _earned() == 0


def test_keys_are_per_merchant(bakery, other_merchant, make_api):
    factories.points_program(other_merchant.merchant)
    ours, theirs = factories.card(bakery.merchant), factories.card(other_merchant.merchant)
    mine, other = make_api(bakery), make_api(other_merchant)
    assert mine.post(f"/cards/{ours.card_number}/purchases", json=_purchase(),
                     key="same").status_code == 201
    second = other.post(f"/cards/{theirs.card_number}/purchases", json=_purchase(), key="same")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert _earned() == 2


def _post(server, key, path, body, idempotency_key):
    return requests.post(f"{server.url}/api/v1{path}", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {key}",
                                  "Idempotency-Key": idempotency_key})


def test_a_second_request_while_the_first_still_runs_is_a_409(app, serve, bakery, make_key,
                                                               monkeypatch):
    card = factories.card(bakery.merchant)
    key = make_key(bakery)
    db.session.commit()
    inside, release = threading.Event(), threading.Event()
    real = orders.purchase

    def slow(*args, **kwargs):
        inside.set()
        assert release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(orders, "purchase", slow)
    server = serve(app)
    path = f"/cards/{card.card_number}/purchases"
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault(
        "first", _post(server, key, path, _purchase(), "slow-1")))
    first.start()
    assert inside.wait(20)
    second = _post(server, key, path, _purchase(), "slow-1")
    release.set()
    first.join(30)
    assert second.status_code == 409
    assert second.headers["Content-Type"] == "application/problem+json"
    assert second.json()["detail"].startswith("A request with this Idempotency-Key is still "
                                              "running.")
    assert answers["first"].status_code == 201
    third = _post(server, key, path, _purchase(), "slow-1")
    assert third.status_code == 201 and third.headers["Idempotent-Replayed"] == "true"
    assert third.content == answers["first"].content
    assert _earned() == 1


def test_requests_with_one_key_at_the_same_moment_credit_once(app, serve, bakery, make_key):
    card = factories.card(bakery.merchant)
    key = make_key(bakery)
    db.session.commit()
    server = serve(app)
    path = f"/cards/{card.card_number}/purchases"
    barrier = threading.Barrier(8, timeout=30)
    answers = [None] * 8

    def send(i):
        barrier.wait()
        answers[i] = _post(server, key, path, _purchase("I-2"), "together")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    fresh = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(fresh) == 1
    assert {a.status_code for a in answers} <= {201, 409}
    assert all(a.content == fresh[0].content for a in answers if a.status_code == 201)
    assert _earned() == 1


def test_the_purge_forgets_answers_after_their_keeping_time_and_runs_hourly(api, bakery,
                                                                            frozen_clock):
    card = factories.card(bakery.merchant)
    path = f"/cards/{card.card_number}/purchases"
    api.post(path, json=_purchase("I-3"), key="old")
    frozen_clock.advance(hours=24)
    api.post(path, json=_purchase("I-4"), key="young")
    frozen_clock.advance(hours=24, seconds=1)  # "old" is 48 h old, "young" 24 h
    assert purge_idempotency_keys() == 1
    assert db.session.scalars(select(ApiIdempotencyKey.key)).all() == ["young"]
    assert idempotency.KEEP_FOR >= timedelta(hours=24)
    schedule = {name: (function, every) for name, function, _queue, every, _about in SCHEDULE}
    function, every = schedule["idempotency-purge"]
    assert function is purge_idempotency_keys
    assert every.split()[1:] == ["*", "*", "*", "*"]  # once an hour


def test_a_key_used_again_after_its_keeping_time_acts_anew(api, merchant, frozen_clock):
    """An expired key is free: the same key, days later, for another stamp, adds it (it is
    not taken for a retry of the first one and answered with the old stamp)."""
    factories.stamp_program(merchant.merchant, cooldown_minutes=0, max_stamps_per_day=10)
    card = factories.card(merchant.merchant)
    path = f"/cards/{card.card_number}/stamps"
    first = api.post(path, json={"quantity": 1}, key="till-reuses-keys")
    assert first.status_code == 201 and first.json["card"]["stamp_count"] == 1
    frozen_clock.advance(hours=49)
    later = api.post(path, json={"quantity": 1}, key="till-reuses-keys")
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers
    assert later.json["card"]["stamp_count"] == 2


def test_a_request_that_died_is_taken_over_by_its_retry_without_acting_twice(
        api, bakery, frozen_clock):
    """A claim left without an answer (the process died after the work committed) is taken
    over after a minute by the same request: the ledger replays, nothing is credited again."""
    card = factories.card(bakery.merchant)
    path = f"/cards/{card.card_number}/purchases"
    first = api.post(path, json=_purchase("I-9"), key="died")
    assert first.status_code == 201
    db.session.execute(ApiIdempotencyKey.__table__.update().values(
        status_code=None, response_body=None, completed_at=None))  # as if it never answered
    db.session.commit()
    assert api.post(path, json=_purchase("I-9"), key="died").status_code == 409  # still "running"
    frozen_clock.advance(minutes=2)
    retry = api.post(path, json=_purchase("I-9"), key="died")
    assert retry.status_code in (200, 201)
    assert retry.json["card"]["points_balance"] == first.json["card"]["points_balance"]
    assert _earned() == 1
