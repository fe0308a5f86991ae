"""Run one service call from many threads, each with its own connection, released together."""
import threading

import pytest

from loyalty.extensions import db
from loyalty.services.errors import DomainError


@pytest.fixture
def app(make_app):
    """Enough pooled connections that every thread really holds its own at the barrier."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 60, "max_overflow": 10, "pool_timeout": 60})
    with app.app_context():
        yield app
        db.session.remove()


class Outcomes(list):
    def __repr__(self):
        kinds = ("ok", "refused", "error")
        return "Outcomes(" + ", ".join(f"{k}={self.count(k)}" for k in kinds) + ")"

    def count(self, kind):  # noqa: D102 - list.count by outcome kind
        return sum(1 for outcome, _ in self if outcome == kind)

    def messages(self, kind="refused"):
        return {str(value.message) for outcome, value in self if outcome == kind}

    def errors(self):
        return [value for outcome, value in self if outcome == "error"]


@pytest.fixture
def run_together(app):
    def run(n, call):
        db.session.commit()  # the test's own session holds nothing while the threads run
        barrier = threading.Barrier(n, timeout=60)
        outcomes = Outcomes([None] * n)

        def worker(i):
            with app.app_context():
                try:
                    barrier.wait()
                    outcomes[i] = ("ok", call(i))
                except DomainError as refusal:
                    outcomes[i] = ("refused", refusal)
                except Exception as error:  # noqa: BLE001 - reported by the test
                    outcomes[i] = ("error", error)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        db.session.expire_all()
        return outcomes

    return run
