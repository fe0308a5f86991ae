"""The least a request can do on this machine's stack: Flask and plain psycopg 3 (no ORM, no
sign-in, session, CSRF, template engine or business rules) behind gunicorn, on the same
PostgreSQL. Run by stack_floor.py; what it costs per request is a floor under any page of the
app that answers the same way.

    GET /            nothing but Flask
    GET /find/<id>   one primary-key SELECT, a line of HTML
    POST /stamp/<id> a stamp in one statement: the card's count goes up and a ledger row is
                     written (UPDATE ... RETURNING inside an INSERT, autocommit)
"""
import os

import psycopg
from flask import Flask
from markupsafe import escape

app = Flask(__name__)
#: One connection per worker process (gunicorn imports this module in each worker), opened
#: before the first request, as the app's warm-up opens its pool.
_connection = psycopg.connect(os.environ["FLOOR_DATABASE_URL"], autocommit=True)


def connection():
    return _connection


@app.get("/")
@app.get("/healthz")
def empty():
    return "ok"


@app.get("/find/<int:card_id>")
def find(card_id):
    row = connection().execute(
        "SELECT id, label, stamps FROM floor_cards WHERE id = %s", (card_id,)).fetchone()
    return f"<p>{escape(row[1])}: {row[2]} stamps</p>"


@app.post("/stamp/<int:card_id>")
def stamp(card_id):
    row = connection().execute(
        "WITH card AS (UPDATE floor_cards SET stamps = stamps + 1 WHERE id = %s"
        " RETURNING id, stamps)"
        " INSERT INTO floor_ledger (card_id, stamps_after) SELECT id, stamps FROM card"
        " RETURNING stamps_after", (card_id,)).fetchone()
    return f"<p>Stamp added: {row[0]}</p>"
