"""WSGI entry point: ``gunicorn wsgi:app``."""
from dotenv import load_dotenv

load_dotenv()

from loyalty import create_app  # noqa: E402 - settings from .env first

app = create_app()
