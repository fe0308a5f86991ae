"""WSGI entry point: ``gunicorn wsgi:app``; ``flask --app wsgi run`` with ``INLINE_SCHEDULE=1``
(``make run``) also runs the schedule in a thread when there is no Redis."""
from dotenv import load_dotenv

load_dotenv()

from loyalty import create_app  # noqa: E402 - settings from .env first
from loyalty.jobs import inline_schedule  # noqa: E402

app = create_app()
if app.config["INLINE_SCHEDULE"]:
    inline_schedule.start(app)
