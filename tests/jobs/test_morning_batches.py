"""The mornings go in batches (``mornings.MORNING_BATCH`` merchants a job): a worker's job
costs a fresh process, more than a small merchant's morning. One merchant failing never keeps
the others of its batch waiting."""
from datetime import UTC, datetime

import pytest
from rq import Queue

from loyalty.extensions import db, redis_client
from loyalty.jobs import points as points_jobs
from loyalty.jobs.points import merchant_morning
from loyalty.services.delivery import mornings
from tests import factories
from tests.jobs.conftest import work


def _shops(count):
    shops = []
    for n in range(count):
        shop = factories.merchant_with_team(f"Shop {n}", f"shop-{n}").merchant
        factories.points_program(shop, points_expiration_days=365)
        shops.append(shop)
    db.session.commit()
    return shops


def test_due_mornings_are_queued_in_batches_each_merchant_once(rq_app, frozen_clock,
                                                               monkeypatch):
    monkeypatch.setattr(mornings, "MORNING_BATCH", 2)
    frozen_clock.set(datetime(2027, 10, 15, 2, 30, tzinfo=UTC))  # 04:30 in Luxembourg
    ids = [shop.id for shop in _shops(3)]

    assert mornings.start_due_mornings(merchant_morning) == ids
    assert mornings.start_due_mornings(merchant_morning) == []  # once that day
    queue = Queue("default", connection=redis_client.connection)
    assert queue.job_ids == [f"morning-{ids[0]}-2027-10-15", f"morning-{ids[2]}-2027-10-15"]
    assert [job.args for job in queue.jobs] == [tuple(ids[:2]), (ids[2],)]
    work(rq_app)
    figures = merchant_morning(*ids[:2])  # a batch run again: nothing more to do
    assert sorted(figures) == ids[:2] and figures[ids[0]]["retention"] == 0


def test_one_merchant_failing_does_not_stop_its_batch(rq_app, frozen_clock, monkeypatch):
    frozen_clock.set(datetime(2027, 10, 15, 2, 30, tzinfo=UTC))
    first, second = (shop.id for shop in _shops(2))
    done = []
    real = points_jobs._one_morning

    def failing_first(merchant_id):
        if merchant_id == first:
            raise RuntimeError("boom")
        done.append(merchant_id)
        return real(merchant_id)

    monkeypatch.setattr(points_jobs, "_one_morning", failing_first)
    with pytest.raises(mornings.MorningsFailed):
        merchant_morning(first, second)
    assert done == [second]
    with pytest.raises(RuntimeError):  # alone, the merchant's own error
        merchant_morning(first)
