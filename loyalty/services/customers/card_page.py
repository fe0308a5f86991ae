"""A customer's own card (``/card/<secret>``): what its holder may see, and nothing more.

Only the card's long secret opens it; an unknown or malformed secret is "not found", like a
card that was deleted. The page reads the card, its merchant's cached program and rewards,
one page of history and the open stores.
"""
import re
from dataclasses import dataclass, field

import segno
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from loyalty.extensions import db
from loyalty.models import LoyaltyCard, LoyaltyTransaction, Merchant, Store
from loyalty.services.engine.localized import language_of
from loyalty.services.engine.lot_expiry import next_expiry
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.errors import NotFound
from loyalty.services.merchant.texts import RewardNames, reward_names_for_rows, text_for

HISTORY_PER_PAGE = 20
SECRET = re.compile(r"^[A-Za-z0-9_-]{20,64}\Z")
NO_CARD = _l("We could not find this card. Check that you opened the whole link from your email.")


@dataclass
class CardPage:
    card: LoyaltyCard
    merchant: Merchant
    program: object
    qr_svg: Markup
    #: The program's texts in the page's language.
    card_name: str = ""
    stamp_reward: str | None = None
    #: (reward's name, points still missing: 0 when it can be had now, the name's language)
    rewards: list = field(default_factory=list)
    #: The merchant's default language, and the language each text above is in.
    language: str = ""
    text_lang: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    #: The history's rewards named in the page's language (``RewardNames.of_row``).
    reward_names: RewardNames = field(default_factory=lambda: RewardNames({}))
    page: int = 1
    has_next: bool = False
    stores: list = field(default_factory=list)
    #: Points expiring by earning month: the lot expiring next (``lot_expiry.NextExpiry``).
    next_expiry: object = None

    @property
    def stamps_in_grid(self):
        return min(self.card.stamp_count, self.program.stamps_target)


def card_for_secret(secret):
    if not SECRET.match(secret or ""):
        raise NotFound(NO_CARD)
    card = db.session.scalar(select(LoyaltyCard).where(LoyaltyCard.page_secret == secret))
    if card is None:
        raise NotFound(NO_CARD)
    return card


def merchant_of(card):
    return db.session.get(Merchant, card.merchant_id)


def card_page(card, locale, page=1):
    rows = merchant_rows(card.merchant_id)
    program = rows.program
    merchant = merchant_of(card)
    view = CardPage(card=card, merchant=merchant, program=program,
                    qr_svg=qr_svg(card.qr_token), page=page, language=merchant.default_locale)
    if program is not None:
        view.card_name = text_for(program, "card_name", locale)
        view.stamp_reward = text_for(program, "stamp_reward_description", locale)
        view.text_lang = {name: language_of(program, name, locale, view.language)
                          for name in ("card_name", "stamp_reward_description")}
    if program is not None and program.has_points:
        view.rewards = [(text_for(reward, "name", locale),
                         max(0, reward.points_cost - card.points_balance),
                         language_of(reward, "name", locale, view.language))
                        for reward in rows.rewards]
        if card.points_balance > 0:
            view.next_expiry = next_expiry(card.id, program)
    T = LoyaltyTransaction
    history = db.session.execute(
        select(T.transaction_type, T.stamps_delta, T.points_delta, T.transaction_at,
               T.reward_id, T.reward_description, Store.name.label("store_name"))
        .outerjoin(Store, Store.id == T.store_id)
        .where(T.card_id == card.id)
        .order_by(T.transaction_at.desc(), T.id.desc())
        .limit(HISTORY_PER_PAGE + 1).offset((page - 1) * HISTORY_PER_PAGE)).all()
    view.history, view.has_next = history[:HISTORY_PER_PAGE], len(history) > HISTORY_PER_PAGE
    view.reward_names = reward_names_for_rows(view.history, program, known=rows.rewards)
    view.stores = db.session.scalars(
        select(Store).where(Store.merchant_id == card.merchant_id, Store.is_active.is_(True))
        .order_by(Store.name)).all()
    return view


def qr_svg(token):
    """The card's QR code (what the counter scans) as inline SVG, drawn on the server."""
    # A viewBox and no fixed size: the code scales to the width the page gives it (a fixed
    # size clipped it on narrow screens).
    svg = segno.make_qr(token, error="m").svg_inline(border=4, dark="#111111", light="#ffffff",
                                                      omitsize=True)
    return Markup(svg)  # noqa: S704 - segno's own SVG of a token we generated
