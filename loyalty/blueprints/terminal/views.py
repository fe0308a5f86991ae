"""The counter screen: find a card, act on it, see the result, without a page reload.

A page renders whole on a normal request; on an HTMX request the same view returns only the
partial the page includes (the card panel, the search results or the action sheet).
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from loyalty import clock
from loyalty.blueprints.terminal import forms
from loyalty.blueprints.terminal.messages import (
    delta_label,
    result_message,
    transaction_label,
)
from loyalty.blueprints.terminal.offline_page import offline_config
from loyalty.blueprints.terminal.sheets import sheet_or_page
from loyalty.dates import reading_locale
from loyalty.extensions import db
from loyalty.forms import new_key
from loyalty.models import Role, Store
from loyalty.redirects import is_htmx, safe_next
from loyalty.services.engine import cards, happy_hours, staff_pins
from loyalty.services.engine.actions import CardRef
from loyalty.services.engine.card_summary import find_summary, summarize_card
from loyalty.services.engine.ledger import ActionContext
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.points import earn_points, redeem_reward
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward, stamp_sheet_limits
from loyalty.services.engine.voids import void_transaction
from loyalty.services.errors import (
    PIN_REFUSALS,
    CardNotFound,
    DomainError,
    PinLocked,
    PinRequired,
    WrongPin,
)
from loyalty.tenancy import current_merchant, roles_required, scoped, tenancy
from loyalty.throttle import TooManyAttempts, attempt, pin_budgets

bp = Blueprint("terminal", __name__, url_prefix="/terminal")

STAFF_ROLES = (Role.MERCHANT_OWNER, Role.STORE_MANAGER, Role.STORE_STAFF)
STORE_COOKIE = "terminal_store"
PIN_ERRORS = (PinRequired, WrongPin, PinLocked)

bp.add_app_template_global(transaction_label, "ledger_label")
bp.add_app_template_global(delta_label, "ledger_delta")
bp.add_app_template_global(new_key, "idempotency_key")
# "14:05" today, "21/11 14:05" (fr) or "21.11. 14:05" (de) another day, on the merchant's clock
bp.add_app_template_filter(clock.local_time_label, "merchant_time")


# --- the device's store -------------------------------------------------------------------

def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="terminal-store")


def _allowed_stores():
    """Open stores the signed-in person may work at: an owner's are queried, anyone else's
    came with their memberships."""
    if "terminal_stores" not in g:
        if tenancy.all_stores:
            query = scoped(Store).where(Store.is_active.is_(True)).order_by(Store.name)
            g.terminal_stores = db.session.scalars(query).all()
        else:
            g.terminal_stores = sorted(
                {s for s in tenancy.stores if s.is_active and s.merchant_id == tenancy.merchant_id},
                key=lambda s: s.name)
    return g.terminal_stores


def _device_store():
    """The store this device works for, if it is one the signed-in person may act for."""
    try:
        store_id = _serializer().loads(request.cookies.get(STORE_COOKIE, ""))
    except BadSignature:
        return None
    return next((s for s in _allowed_stores() if s.id == store_id), None)


def _store_or_redirect():
    store = _device_store()
    if store is None:
        allowed = _allowed_stores()
        if len(allowed) == 1:
            return allowed[0], None
        return None, redirect(url_for("terminal.choose_store", next=request.full_path))
    return store, None


def _remember_store(response, store):
    response.set_cookie(
        STORE_COOKIE, _serializer().dumps(store.id), max_age=60 * 60 * 24 * 365,
        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.route("/store", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def choose_store():
    stores = _allowed_stores()
    form = forms.StoreForm()
    if form.validate_on_submit():
        store = next((s for s in stores if s.id == form.store_id.data), None)
        if store is None:
            abort(404)
        target = safe_next(request.args.get("next"))
        if not target or not target.startswith("/terminal"):
            target = url_for("terminal.index")
        return _remember_store(redirect(target), store)
    status = 422 if request.method == "POST" else 200
    return render_template("terminal/choose_store.html", stores=stores, form=form,
                           current=_device_store()), status


# --- pages and partials -------------------------------------------------------------------

def _context(store, form=None):
    return ActionContext(
        store_id=store.id,
        user_id=current_user.id,
        pin=(form.pin.data or None) if form is not None else None,
        staff_pin_id=form.staff_pin_id.data if form is not None else None,
        ip_address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


def _can_manage():
    """Owners and managers (of any store): they reach the settings pages."""
    return tenancy.role in (Role.MERCHANT_OWNER, Role.STORE_MANAGER)


def _manages(store_id):
    """The signed-in person's rights at this store: the owner, or a manager of this very
    store (a manager elsewhere is staff here). A PIN typed for an action speaks for its
    holder instead."""
    return (tenancy.role is Role.MERCHANT_OWNER
            or any(store.id == store_id for store in tenancy.managed_stores))


def _program():
    """The merchant's program: the worker's copy while the owner has not changed it."""
    return merchant_rows(current_merchant.id).program


def _render(store, *, card=None, summary=None, results=None, query="", banner=None,
            banner_kind="success", status=200):
    merchant = current_merchant._get_current_object()  # the template reads it often
    program = _program()
    if summary is None and card is not None:
        summary = summarize_card(card)
    values = dict(store=store, merchant=merchant, program=program, summary=summary,
                  results=results, query=query, banner=banner, banner_kind=banner_kind,
                  timezone=merchant.timezone, time_locale=reading_locale(),  # once, not per row
                  happy_now=happy_hours.running_now(
                      merchant_rows(merchant.id), store.id, clock.now(),
                      merchant.timezone) if summary is not None else (),
                  can_manage=_can_manage(), manages_store=_manages(store.id))
    if is_htmx() and summary is not None:
        return render_template("terminal/_card_panel.html", **values), status
    if is_htmx() and results is not None:
        return render_template("terminal/_results.html", **values), status
    return render_template("terminal/index.html", offline=offline_config(store), **values), status


def _card_or_404(card_id):
    try:
        return cards.card_by_id(current_merchant.id, card_id)
    except CardNotFound:
        abort(404)


@bp.route("/")
@roles_required(*STAFF_ROLES)
def index():
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    return _render(store)


@bp.route("/find")
@roles_required(*STAFF_ROLES)
def find():
    """A scan or a typed card number opens the card; anything else searches customers."""
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    query = request.args.get("q", "").strip()
    if not query:
        return _render(store, results=[], query=query)
    try:
        summary = find_summary(current_merchant.id, query)  # card and history in one read
    except CardNotFound as missing:
        results = cards.search_cards(current_merchant.id, query, region=current_merchant.country)
        if len(results) == 1:
            return _render(store, card=results[0], query=query)
        if not results:
            return _render(store, results=[], query=query, banner=str(missing.message),
                           banner_kind="error")
        return _render(store, results=results, query=query)
    return _render(store, summary=summary, query=query)


@bp.route("/cards/<int:card_id>")
@roles_required(*STAFF_ROLES)
def card(card_id):
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    return _render(store, card=_card_or_404(card_id))


SHEETS = {
    "stamp": forms.StampForm,
    "redeem-stamps": forms.ActionForm,
    "earn": forms.EarnForm,
    "redeem": forms.RedeemForm,
    "void": forms.VoidForm,
}


@bp.route("/cards/<int:card_id>/sheet/<kind>")
@roles_required(*STAFF_ROLES)
def sheet(card_id, kind):
    """The action sheet: amount keypad, confirmation and PIN pad for one action."""
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    if kind not in SHEETS:
        abort(404)
    card = _card_or_404(card_id)
    form = SHEETS[kind](formdata=None, reward_id=request.args.get("reward_id", type=int),
                        transaction_id=request.args.get("transaction_id", type=int))
    return _render_sheet(store, card, kind, form)


LAST_STAFF = "terminal_staff_pin_id"


def _render_sheet(store, card, kind, form, *, error=None, locked=None, notice=None, status=200):
    staff = staff_pins.staff_pins_at(current_merchant.id, store.id)
    if form.staff_pin_id.data is None:
        # Preselect whoever used this terminal last, or the only staff member of the store.
        remembered = session.get(LAST_STAFF)
        ids = [person.id for person in staff]
        form.staff_pin_id.data = remembered if remembered in ids else (ids[0] if len(ids) == 1 else None)
    stamps_left, today_left, cooldown = (
        stamp_sheet_limits(card, _program(), current_merchant.timezone, clock.now())
        if kind == "stamp" and _program() is not None and _program().has_stamps else (0, 0, None))
    values = dict(store=store, summary=summarize_card(card), kind=kind, stamps_left=stamps_left,
                  stamps_left_today=today_left, cooldown=cooldown,
                  form=form, error=error, locked=locked, notice=notice, program=_program(),
                  merchant_currency=current_merchant.currency, staff=staff,
                  timezone=current_merchant.timezone, carried_fields=forms.CARRIED_THROUGH_UNLOCK)
    return sheet_or_page("terminal/_sheet.html", "terminal/sheet_page.html", status, **values)


def _checked(tried, run):
    """Run the action and give back the unit it took from the terminal's budget: only a PIN
    that was checked and found wrong or locked (``PIN_REFUSALS``) keeps it."""
    result = run()
    tried.succeeded()
    return result


def _act(card_id, kind, run):
    """Validate the action's form, run the service once, answer with the updated panel.

    The card is first read under the action's lock, with the panel read in the same
    transaction; it is read on its own only to answer a refusal."""
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    form = SHEETS[kind]()
    if not form.validate_on_submit():
        return _render_sheet(store, _card_or_404(card_id), kind, form, status=422)
    card = CardRef(card_id, current_merchant.id)
    budgets = pin_budgets(request.remote_addr) if form.pin.data else []
    try:
        with attempt(budgets, failures=PIN_REFUSALS) as tried:  # counted before the PIN is checked
            result = _checked(tried, lambda: run(card, form, _context(store, form)))
    except TooManyAttempts as pause:
        message = ngettext(
            "Too many wrong PINs on this terminal. Try again in %(num)d minute.",
            "Too many wrong PINs on this terminal. Try again in %(num)d minutes.", pause.minutes)
        return _render_sheet(store, _card_or_404(card_id), kind, form, error=message, status=429)
    except PIN_ERRORS as refusal:
        locked = form.staff_pin_id.data if isinstance(refusal, PinLocked) else None
        return _render_sheet(store, _card_or_404(card_id), kind, form,
                             error=str(refusal.message), locked=locked,
                             status=refusal.status_code)
    except CardNotFound:
        abort(404)
    except DomainError as refusal:  # a refusal, or a reward/transaction not found: say which
        return _render(store, card=_card_or_404(card_id), banner=str(refusal.message),
                       banner_kind="error", status=refusal.status_code)
    if result.transaction.staff_pin_id:
        session[LAST_STAFF] = result.transaction.staff_pin_id
    summary = result.extra.get("then")
    message = result_message(result.transaction, _program(), getattr(summary, "reward_names", None))
    return _render(store, card=result.card, summary=summary, banner=message)


@bp.route("/cards/<int:card_id>/stamp", methods=["POST"])
@roles_required(*STAFF_ROLES)
def stamp(card_id):
    return _act(card_id, "stamp", lambda card, form, ctx: add_stamp(
        card, context=ctx, idempotency_key=form.idempotency_key.data,
        quantity=form.quantity.data or 1, then=summarize_card))


@bp.route("/cards/<int:card_id>/redeem-stamps", methods=["POST"])
@roles_required(*STAFF_ROLES)
def redeem_stamps(card_id):
    return _act(card_id, "redeem-stamps", lambda card, form, ctx: redeem_stamp_reward(
        card, context=ctx, idempotency_key=form.idempotency_key.data, then=summarize_card))


@bp.route("/cards/<int:card_id>/earn", methods=["POST"])
@roles_required(*STAFF_ROLES)
def earn(card_id):
    return _act(card_id, "earn", lambda card, form, ctx: earn_points(
        card, form.amount_cents, context=ctx, order_reference=form.order_reference.data,
        idempotency_key=form.idempotency_key.data, then=summarize_card))


@bp.route("/cards/<int:card_id>/redeem", methods=["POST"])
@roles_required(*STAFF_ROLES)
def redeem(card_id):
    return _act(card_id, "redeem", lambda card, form, ctx: redeem_reward(
        card, form.reward_id.data, context=ctx, idempotency_key=form.idempotency_key.data,
        then=summarize_card))


@bp.route("/cards/<int:card_id>/void", methods=["POST"])
@roles_required(*STAFF_ROLES)
def void(card_id):
    return _act(card_id, "void", lambda card, form, ctx: void_transaction(
        card, form.transaction_id.data, amount=form.amount.data, context=ctx,
        idempotency_key=form.idempotency_key.data, manages_store=_manages(ctx.store_id),
        then=summarize_card))


@bp.route("/enroll", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def enroll():
    store, redirect_response = _store_or_redirect()
    if redirect_response:
        return redirect_response
    form = forms.EnrollForm()
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            card = cards.enroll_customer(
                current_merchant, name=form.name.data, email=form.email.data,
                phone=form.phone.data, locale=form.language.data, context=_context(store),
                idempotency_key=form.idempotency_key.data,
            )
        except DomainError as refusal:
            existing = refusal.details.get("card_id")
            if existing:  # the customer already has a card: open it instead of a dead end
                return _render(store, card=_card_or_404(existing), banner_kind="error",
                               banner=_("This customer already has a card: here it is."))
            error, status = str(refusal.message), refusal.status_code
        else:
            return _render(store, card=card,
                           banner=_("Welcome! Card %(number)s is ready.", number=card.card_number))
    elif request.method == "POST":
        status = 422
    return sheet_or_page("terminal/_enroll.html", "terminal/enroll_page.html", status,
                         form=form, error=error, store=store)


