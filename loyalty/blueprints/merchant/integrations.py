"""Settings > Integrations (owners): API keys for tills and web shops, and the way to the
API's reference and to the webhooks.

A new key is shown in the answer to the POST that made it, and nowhere else: not in a URL,
not in a flash message (the session is a cookie), not in the audit trail. Only its hash is
kept, so a lost key is revoked and replaced, never read again.
"""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from loyalty.blueprints.merchant.api_key_forms import ApiKeyForm
from loyalty.blueprints.merchant.base import OWNER, actor, bp, page
from loyalty.blueprints.merchant.forms import ConfirmForm
from loyalty.forms import field_error
from loyalty.models import MAX_ID
from loyalty.services.errors import DomainError, NotFound
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import stores
from loyalty.tenancy import current_merchant, roles_required

#: The webhooks page, when its blueprint is there (it is built beside this one).
WEBHOOKS_ENDPOINT = "merchant.webhooks"


def _key_form(**kwargs):
    form = ApiKeyForm(**kwargs)
    form.set_stores([store for store in stores.stores_of(current_merchant.id) if store.is_active])
    return form


def _page(form, *, revealed=None, status=200):
    webhooks = (url_for(WEBHOOKS_ENDPOINT) if WEBHOOKS_ENDPOINT in current_app.view_functions
                else None)
    return page("merchant/integrations.html", form=form, revealed=revealed,
                keys=api_keys.keys_of(current_merchant.id), scopes=api_keys.SCOPES,
                actions=ConfirmForm(), webhooks_url=webhooks, status=status)


@bp.route("/integrations", methods=["GET", "POST"])
@roles_required(*OWNER)
def integrations():
    form = _key_form()
    if form.validate_on_submit():
        store = form.store
        try:
            row, key = api_keys.create_key(
                current_merchant.id, name=form.name.data, scopes=form.scopes.data,
                store_id=store.id if store else None, actor=actor())
        except NotFound as gone:  # the store was closed or deleted meanwhile
            field_error(form, gone, "store_id")
        except DomainError as refusal:
            field_error(form, refusal, "name")
        else:
            # Shown once, in this answer only (see the module's docstring).
            return _page(_key_form(formdata=None), revealed=(row, key))
    return _page(form, status=422 if request.method == "POST" else 200)


@bp.route("/integrations/keys/<int:api_key_id>/revoke", methods=["POST"])
@roles_required(*OWNER)
def revoke_api_key(api_key_id):
    """Revoke at once: the key's next request is refused (401). The page asks first."""
    if not 0 < api_key_id <= MAX_ID:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        row = api_keys.revoke_key(current_merchant.id, api_key_id, actor=actor())
    except NotFound:
        abort(404)
    flash(_("The key “%(name)s” is revoked: requests with it are refused from now on.",
            name=row.name), "success")
    return redirect(url_for("merchant.integrations"))
