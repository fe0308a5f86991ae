"""Uploaded images (logos, hero pictures), public: customer pages and wallet passes show them.
Their names are content hashes, so they never change and may be kept forever."""
from flask import Blueprint, abort, send_file

from loyalty.services.merchant.branding import media_path

bp = Blueprint("media", __name__)


@bp.route("/media/<name>")
def image(name):
    path = media_path(name)
    if path is None:
        abort(404)
    response = send_file(path, max_age=365 * 24 * 3600, conditional=True)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
