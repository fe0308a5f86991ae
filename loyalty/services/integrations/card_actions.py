"""Stamps and rewards through the API: the terminal's own actions (``engine.stamps``,
``engine.points``) with the key as the actor, so the cooldown, the daily cap, the balance and
the home-store rule refuse exactly as at the counter, with the same words."""
from flask_babel import lazy_gettext as _l

from loyalty.services.engine.cards import card_by_number
from loyalty.services.engine.merchant_cache import merchant_rows
from loyalty.services.engine.points import redeem_reward
from loyalty.services.engine.stamps import add_stamp, redeem_stamp_reward
from loyalty.services.errors import InvalidInput, NotFound
from loyalty.services.integrations.card_views import card_view
from loyalty.services.integrations.orders import api_context, store_for


def add_stamps(caller, number, *, quantity, store=None, idempotency_key=None, ip_address=None,
               user_agent=None, locale=None):
    """``quantity`` stamps on the card ``number``: the answer's dict (201)."""
    card = card_by_number(caller.merchant_id, number)
    context = api_context(caller, store_for(caller, store), ip_address, user_agent)
    result = add_stamp(card, context=context, idempotency_key=idempotency_key,
                       quantity=quantity)
    row = result.transaction
    return {"transaction_id": row.id, "stamps_added": row.stamps_delta,
            "card": card_view(result.card, locale=locale)}


def redeem(caller, number, *, reward_id=None, stamp_reward=False, store=None,
           idempotency_key=None, ip_address=None, user_agent=None, locale=None):
    """Give the card ``number`` a catalogue reward (``reward_id``) or its stamp reward: the
    answer's dict (201)."""
    if (reward_id is None) == (not stamp_reward):
        raise InvalidInput(_l('Send either "reward_id" or "stamp_reward": true.'),
                           errors=[{"field": "reward_id",
                                    "message": str(_l("Exactly one of the two."))}])
    card = card_by_number(caller.merchant_id, number)
    if reward_id is not None and reward_id not in {
            reward.id for reward in merchant_rows(caller.merchant_id).rewards}:
        raise NotFound(_l("This reward is not available any more."))  # another shop's: unknown
    context = api_context(caller, store_for(caller, store), ip_address, user_agent)
    if stamp_reward:
        result = redeem_stamp_reward(card, context=context, idempotency_key=idempotency_key)
    else:
        result = redeem_reward(card, reward_id, context=context,
                               idempotency_key=idempotency_key)
    row = result.transaction
    program = merchant_rows(caller.merchant_id).program
    return {
        "transaction_id": row.id,
        "reward": {"id": row.reward_id, "kind": "stamps" if row.stamps_delta else "points",
                   "name": row.reward_description},
        "points_spent": -row.points_delta,
        "stamps_spent": -row.stamps_delta,
        "card": card_view(result.card, program, locale),
    }
