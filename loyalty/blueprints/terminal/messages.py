"""The result banner's words for each kind of ledger row."""
from loyalty.i18n import N_, ngettext
from loyalty.i18n import gettext as _
from loyalty.models import TransactionType


def result_message(transaction, program):
    """What an action did, from its ledger row alone: a retried request gets the first answer
    back word for word, whatever happened to the card since."""
    kind = transaction.transaction_type
    stamps, points = transaction.stamps_balance_after, transaction.points_balance_after
    if kind == TransactionType.STAMP_EARNED:
        if program.stamps_target and stamps >= program.stamps_target:
            return _("Stamp added. %(count)s of %(target)s: the reward is ready!",
                     count=stamps, target=program.stamps_target)
        return _("Stamp added. %(count)s of %(target)s stamps.",
                 count=stamps, target=program.stamps_target)
    if kind == TransactionType.STAMP_REDEEMED:
        return _("Reward given: %(reward)s. %(count)s stamps left on the card.",
                 reward=transaction.reward_description or _("stamp card reward"),
                 count=stamps)
    if kind == TransactionType.POINTS_EARNED:
        return _("%(points)s points added. New balance: %(balance)s points.",
                 points=transaction.points_delta, balance=points)
    if kind == TransactionType.POINTS_REDEEMED:
        return _("%(reward)s redeemed for %(cost)s points. New balance: %(balance)s points.",
                 reward=transaction.reward_description, cost=-transaction.points_delta,
                 balance=points)
    if kind == TransactionType.STAMP_REWARD_VOIDED:
        return _("Reward undone: %(stamps)s stamps back on the card, now %(count)s.",
                 stamps=transaction.stamps_delta, count=stamps)
    if kind == TransactionType.POINTS_REWARD_VOIDED:
        return _("Reward undone: %(points)s points back. New balance: %(balance)s points.",
                 points=transaction.points_delta, balance=points)
    if kind == TransactionType.POINTS_VOIDED:
        message = _("%(points)s points taken back. New balance: %(balance)s points.",
                    points=-transaction.points_delta, balance=points)
    elif kind == TransactionType.STAMP_VOIDED:
        message = _("%(stamps)s stamps taken back. Now %(count)s stamps.",
                    stamps=-transaction.stamps_delta, count=stamps)
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
    TransactionType.POINTS_EARNED: N_("Purchase"),
    TransactionType.POINTS_REDEEMED: N_("Reward"),
    TransactionType.POINTS_VOIDED: N_("Return"),
    TransactionType.POINTS_ADJUSTED: N_("Points adjusted"),
    TransactionType.POINTS_EXPIRED: N_("Points expired"),
    TransactionType.STAMP_REWARD_VOIDED: N_("Stamp reward undone"),
    TransactionType.POINTS_REWARD_VOIDED: N_("Reward undone"),
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
