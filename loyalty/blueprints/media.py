"""Uploaded images (logos, hero pictures), public: customer pages and wallet passes show them.
Their names are content hashes, so they never change and may be kept forever; the name is
also the ETag, so a browser asking again gets a 304 without the bytes being read."""
from flask import Blueprint, Response, abort, request

from loyalty.services.merchant.branding import media_exists, stored_media

bp = Blueprint("media", __name__)

FOREVER = "public, max-age=31536000, immutable"


@bp.route("/media/<name>")
def image(name):
    if request.if_none_match.contains_weak(name) and media_exists(name):
        response = Response(status=304)
    else:
        stored = stored_media(name)
        if stored is None:
            abort(404)
        data, content_type = stored
        response = Response(data, content_type=content_type)
    response.set_etag(name)
    response.headers["Cache-Control"] = FOREVER
    return response
