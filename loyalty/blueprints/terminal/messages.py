"""The result banner's words for each kind of ledger row."""
from flask_babel import get_locale

from loyalty.i18n import N_, ngettext
from loyalty.i18n import gettext as _
from loyalty.models import TransactionType


def result_message(transaction, program, reward_names=None):
    """What an action did, from its ledger row alone: a retried request gets the first answer
    back word for word, whatever happened to the card since. A reward is named in the page's
    language when ``reward_names`` (``merchant_texts.RewardNames``) has it so."""
    kind = transaction.transaction_type
    stamps, points = transaction.stamps_balance_after, transaction.points_balance_after
    reward = (reward_names.of_row(transaction, get_locale()) if reward_names is not None
              else transaction.reward_description)
    balance = ngettext("New balance: %(num)s point.", "New balance: %(num)s points.", points)
    if kind == TransactionType.STAMP_EARNED:
        if program.stamps_target and stamps >= program.stamps_target:
            return _("Stamp added. %(count)s of %(target)s: the reward is ready!",
                     count=stamps, target=program.stamps_target)
        return ngettext("Stamp added. %(num)s stamp of %(target)s.",
                        "Stamp added. %(num)s stamps of %(target)s.", stamps,
                        target=program.stamps_target)
    if kind == TransactionType.STAMP_REDEEMED:
        return " ".join((_("Reward given: %(reward)s.", reward=reward or _("stamp card reward")),
                         ngettext("%(num)s stamp left on the card.",
                                  "%(num)s stamps left on the card.", stamps)))
    if kind == TransactionType.POINTS_EARNED:
        return " ".join((ngettext("%(num)s point added.", "%(num)s points added.",
                                  transaction.points_delta), balance))
    if kind == TransactionType.POINTS_REDEEMED:
        return " ".join((ngettext("%(reward)s redeemed for %(num)s point.",
                                  "%(reward)s redeemed for %(num)s points.",
                                  -transaction.points_delta, reward=reward), balance))
    if kind == TransactionType.STAMP_REWARD_VOIDED:
        return ngettext("Reward undone: %(num)s stamp back on the card, now %(count)s.",
                        "Reward undone: %(num)s stamps back on the card, now %(count)s.",
                        transaction.stamps_delta, count=stamps)
    if kind == TransactionType.POINTS_REWARD_VOIDED:
        return " ".join((ngettext("Reward undone: %(num)s point back.",
                                  "Reward undone: %(num)s points back.", transaction.points_delta),
                         balance))
    if kind == TransactionType.POINTS_VOIDED:
        message = " ".join((ngettext("%(num)s point taken back.", "%(num)s points taken back.",
                                     -transaction.points_delta), balance))
    elif kind == TransactionType.STAMP_VOIDED:
        message = " ".join((ngettext("%(num)s stamp taken back.", "%(num)s stamps taken back.",
                                     -transaction.stamps_delta),
                            ngettext("Now %(num)s stamp.", "Now %(num)s stamps.", stamps)))
    else:
        return _("Done.")
    if transaction.void_shortfall:
        message += " " + _("%(short)s could not be taken back: the card did not have enough left.",
                           short=transaction.void_shortfall)
    return message


TRANSACTION_LABELS = {
    TransactionType.CARD_CREATED: N_("Card created"),
    TransactionType.CARD_DEACTIVATED: N_("Card deactivated"),
    TransactionType.CARD_REACTIVATED: N_("Card reactivated"),
    TransactionType.STAMP_EARNED: N_("Stamp"),
    TransactionType.STAMP_REDEEMED: N_("Stamp reward"),
    TransactionType.STAMP_VOIDED: N_("Stamp voided"),
    TransactionType.STAMP_ADJUSTED: N_("Stamps adjusted"),
    TransactionType.WELCOME_BONUS: N_("Welcome bonus"),
    TransactionType.BIRTHDAY_BONUS: N_("Birthday bonus"),
    TransactionType.POINTS_EARNED: N_("Purchase"),
    TransactionType.POINTS_REDEEMED: N_("Reward"),
    TransactionType.POINTS_VOIDED: N_("Return"),
    TransactionType.POINTS_ADJUSTED: N_("Points adjusted"),
    TransactionType.POINTS_EXPIRED: N_("Points expired"),
    TransactionType.STAMP_REWARD_VOIDED: N_("Stamp reward undone"),
    TransactionType.POINTS_REWARD_VOIDED: N_("Reward undone"),
    TransactionType.WINBACK_BONUS: N_("Welcome-back gift"),
    TransactionType.WINBACK_LAPSED: N_("Welcome-back gift lapsed"),
}


def transaction_label(kind):
    label = TRANSACTION_LABELS.get(kind)
    return _(label) if label is not None else str(kind)


def delta_label(transaction):
    """What a ledger row did to the card, e.g. "+1 stamp" or "-60 points"."""
    parts = []
    if transaction.stamps_delta:
        n = transaction.stamps_delta
        parts.append(("+" if n > 0 else "-") + ngettext("%(num)s stamp", "%(num)s stamps", abs(n)))
    if transaction.points_delta:
        n = transaction.points_delta
        parts.append(("+" if n > 0 else "-") + ngettext("%(num)s point", "%(num)s points", abs(n)))
    return " ".join(parts)
