"""The least a request can do on this stack: Flask + Flask-SQLAlchemy (psycopg 3) on PostgreSQL,
``FLOOR_QUERIES`` primary-key SELECTs of a three-column row and a precompiled one-line template.

No sign-in, session, CSRF, rate limit, writes or business rules: what it serves per second is
an upper bound for any page of the app that issues as many statements. Run by stack_floor.py.
"""
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["FLOOR_DATABASE_URL"]
db = SQLAlchemy(app)
QUERIES = int(os.environ.get("FLOOR_QUERIES", "1"))


class Row(db.Model):
    __tablename__ = "floor_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str]
    count: Mapped[int]


BY_ID = select(Row).where(Row.id == bindparam("id"))
PAGE = app.jinja_env.from_string("<p>{{ row.label }}: {{ row.count }}</p>")


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/")
def page():
    row = None
    for offset in range(QUERIES):
        row = db.session.scalars(BY_ID, {"id": 1 + offset}).first()
    return PAGE.render(row=row)
