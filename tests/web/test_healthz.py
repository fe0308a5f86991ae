"""/healthz: 200 only when the configured services answer."""
def test_healthy_with_the_database_and_configured_redis(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"
    expected = "ok" if app.config["REDIS_URL"] else "not configured"
    assert response.json["redis"] == expected


def test_a_stopped_redis_is_reported_unhealthy(make_app):
    # Nothing listens on port 1: this is what a stopped Redis looks like to the app.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"database": "ok", "redis": "unreachable", "status": "unhealthy",
                             "scheduler": "unknown",
                             "outbox": {"pending": 0, "oldest_age_seconds": 0}}


def test_the_outbox_backlog_and_its_age_are_reported(make_app, frozen_clock):
    from loyalty.services.merchant import team  # noqa: PLC0415
    from tests import factories  # noqa: PLC0415

    # Redis down: the invitation's email waits in the outbox.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://",
                   JOBS_INLINE=False)
    with app.app_context():
        merchant = factories.merchant_with_team("Café Attente", "cafe-attente").merchant
        team.invite(merchant, email="waiting@example.com", name="Wait", role="merchant_owner")
    frozen_clock.advance(minutes=2)
    response = app.test_client().get("/healthz")
    assert response.json["outbox"] == {"pending": 1, "oldest_age_seconds": 120}


def test_an_unreachable_database_is_reported_unhealthy(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none",
                   SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 1}})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
