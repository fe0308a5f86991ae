"""The counter poster: the shop's branding, the QR code customers scan to join, and the
program in one sentence, in each language the owner picks. A store's poster names the store
and its code joins there (``/m/<slug>/join?store=<code>``): the cards it makes are the
store's, and its managers see them."""
from dataclasses import dataclass

from flask_babel import force_locale, gettext
from markupsafe import Markup

from loyalty.database import write_transaction
from loyalty.links import external_url
from loyalty.services import audit
from loyalty.services.customers.card_page import qr_svg
from loyalty.services.customers.storefront import offer_lines
from loyalty.services.merchant.texts import text_for

SIZES = ("a4", "a6")
#: The audit action of a printed poster (the getting-started checklist looks for one).
PRINTED = "poster.print"


@dataclass(frozen=True)
class PosterText:
    locale: str
    headline: str
    offer: str
    scan: str


@dataclass(frozen=True)
class Poster:
    shop: str
    store: str | None
    primary_color: str
    secondary_color: str
    logo_url: str | None
    url: str
    qr_svg: Markup
    texts: tuple


def poster(merchant, program, languages, *, self_enrollment=True, store=None):
    """The poster of ``program`` in ``languages`` (the first one leads), for ``store`` or the
    whole shop. The code opens the join form (the store's), or the program page when
    customers cannot join online."""
    if self_enrollment:
        url = external_url("storefront.join", slug=merchant.slug,
                           **({"store": store.code} if store is not None else {}))
    else:
        url = external_url("storefront.program", slug=merchant.slug)
    texts = []
    for locale in languages:
        with force_locale(locale):
            card_name = text_for(program, "card_name", locale)
            texts.append(PosterText(
                locale=locale,
                headline=gettext("Join %(card)s", card=card_name),
                offer=" ".join(offer_lines(program, locale)),
                scan=gettext("Scan the code with your phone's camera to get your card.")
                if self_enrollment else
                gettext("Scan the code to see the program, and ask for your card at the counter."),
            ))
    return Poster(shop=merchant.name, store=store.name if store is not None else None,
                  primary_color=program.primary_color, secondary_color=program.secondary_color,
                  logo_url=program.logo_url, url=url, qr_svg=qr_svg(url), texts=tuple(texts))


def record_printed(program, size, *, store=None, actor):
    """Note in the audit trail that the owner printed the poster (its size and store): the
    checklist's poster step is done from then on."""
    label = size.upper() + (f" · {store.name}" if store is not None else "")
    with write_transaction():
        audit.record(actor, PRINTED, program, merchant_id=program.merchant_id, label=label)
