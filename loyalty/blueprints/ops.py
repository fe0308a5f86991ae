"""The operator's endpoints: ``/readyz`` for the load balancer (this process can serve: the
database and Redis answer) and ``/metrics`` for Prometheus, behind ``METRICS_TOKEN``.
``/healthz`` (cheap, with the schedule's health) stays with sign-in."""
import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request

from loyalty import metrics
from loyalty.jobs import QUEUES
from loyalty.services.platform import health

bp = Blueprint("ops", __name__)


@bp.route("/readyz")
def readyz():
    """200 when the database and (if configured) Redis answer, else 503 naming which did
    not."""
    checks = health.readiness()
    ready = "unreachable" not in checks.values()
    checks["status"] = "ready" if ready else "not ready"
    response = jsonify(checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/metrics")
def scrape():
    """The Prometheus text: 404 while ``METRICS_TOKEN`` is unset (nothing is exposed), 401
    without ``Authorization: Bearer <the token>``."""
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        return Response("Unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'},
                        content_type="text/plain; charset=utf-8")
    response = Response(metrics.exposition(health.BacklogCollector(QUEUES)),
                        content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
