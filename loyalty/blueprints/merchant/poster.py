"""The counter poster (A4 or A6), printed from the browser."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.services.merchant import poster as posters
from loyalty.services.merchant import programs, stores
from loyalty.services.merchant import texts as merchant_texts
from loyalty.tenancy import current_merchant, roles_required


def _size():
    size = request.args.get("size")
    return size if size in posters.SIZES else posters.SIZES[0]


def _open_stores():
    return [store for store in stores.stores_of(current_merchant.id) if store.is_active]


def _store(open_stores):
    """The open store the poster is for (``?store=<code>``), or None for the whole shop."""
    return next((store for store in open_stores if store.code == request.args.get("store")),
                None)


@bp.route("/poster")
@roles_required(*OWNER)
def poster():
    program = programs.live_program(current_merchant.id)
    if program is None:
        flash(_("Create your loyalty program first."), "info")
        return redirect(url_for("merchant.program"))
    offered = [current_merchant.default_locale,
               *merchant_texts.other_languages(current_merchant)]
    picked = [code for code in offered if code in request.args.getlist("lang")]
    languages = picked or merchant_texts.given_languages(current_merchant, program)
    size = _size()
    settings = programs.loyalty_settings(current_merchant.id)
    open_stores = _open_stores()
    store = _store(open_stores)
    sheet = posters.poster(current_merchant, program, languages,
                           self_enrollment=settings.allow_self_enrollment, store=store)
    return page("merchant/poster.html", poster=sheet, size=size, languages_offered=offered,
                picked=languages, program_active=program.is_active, stores=open_stores,
                store=store, self_enrollment=settings.allow_self_enrollment)


@bp.route("/poster/printed", methods=["POST"])
@roles_required(*OWNER)
def poster_printed():
    """The page posts here when the browser prints it (its print button, or the browser's
    own print command)."""
    program = programs.live_program(current_merchant.id) or abort(404)
    posters.record_printed(program, _size(), store=_store(_open_stores()), actor=actor())
    return "", 204
