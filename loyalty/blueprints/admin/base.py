"""What the back office's views share: who acts (for the audit trail) and page rendering."""
from flask import render_template, request
from flask_login import current_user

from loyalty.models import MAX_ID
from loyalty.services.audit import Actor


def actor():
    """The platform admin acting: every merchant, every store."""
    return Actor(user_id=current_user.id, ip_address=request.remote_addr)


def page_arg():
    page = request.args.get("page", 1, type=int)
    return page if 0 < page <= 10_000 else 1


def id_arg(name):
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def page(template, status=200, **values):
    return render_template(template, **values), status
