"""The merchant's program, its rewards and settings as the engine reads them.

The owner's edits (create, update, rewards, settings) are ``merchant/programs.py``, which
re-exports these; the counter reads them through ``merchant_cache``.
"""
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from loyalty import clock
from loyalty.database import in_write_transaction, write_transaction
from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, MerchantLoyaltySettings, Reward
from loyalty.services.errors import NotFound


def live_program(merchant_id):
    """The merchant's program (active or not), or None; always as the database has it now."""
    return db.session.scalar(
        select(LoyaltyProgram)
        .where(LoyaltyProgram.merchant_id == merchant_id)
        .execution_options(populate_existing=True)
    )


def catalogue(program):
    """Every reward of the program, active or not, in catalogue order."""
    return db.session.scalars(
        select(Reward).where(Reward.program_id == program.id).order_by(Reward.position, Reward.id)
    ).all()


def reward_for(merchant_id, reward_id):
    reward = db.session.scalar(
        select(Reward).where(Reward.id == reward_id, Reward.merchant_id == merchant_id)
    )
    if reward is None:
        raise NotFound(_l("This reward does not exist."))
    return reward


@cache
def _program_with_rewards_statement():
    return (
        select(LoyaltyProgram, Reward)
        .outerjoin(Reward, and_(Reward.program_id == LoyaltyProgram.id, Reward.is_active.is_(True)))
        .where(LoyaltyProgram.merchant_id == bindparam("merchant_id"))
        .order_by(Reward.points_cost, Reward.name)
        .execution_options(populate_existing=True)
    )


def program_with_rewards(merchant_id):
    """``(program, active rewards cheapest first)`` in one statement; ``(None, [])`` if none."""
    rows = db.session.execute(_program_with_rewards_statement(), {"merchant_id": merchant_id}).all()
    if not rows:
        return None, []
    return rows[0][0], [reward for _, reward in rows if reward is not None]


def active_rewards(program):
    return db.session.scalars(
        select(Reward)
        .where(Reward.program_id == program.id, Reward.is_active.is_(True))
        .order_by(Reward.points_cost, Reward.name)
    ).all()


def loyalty_settings(merchant_id):
    """The merchant's settings row, created on first use; safe when two requests race.

    ``INSERT ... ON CONFLICT DO NOTHING``, then read: inside a use case's write transaction it
    joins that transaction, otherwise it commits a short one of its own.
    """
    query = (
        select(MerchantLoyaltySettings)
        .where(MerchantLoyaltySettings.merchant_id == merchant_id)
        .execution_options(populate_existing=True)
    )
    settings = db.session.scalar(query)
    if settings is None:
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(MerchantLoyaltySettings)
            .values(merchant_id=merchant_id, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["merchant_id"])
        )
        if in_write_transaction():
            db.session.execute(statement)
        else:
            with write_transaction():
                db.session.execute(statement)
        settings = db.session.scalar(query)
    return settings


def pin_lockout_policy(settings):
    """(attempts, minutes): the merchant's own values, else the platform defaults."""
    config = current_app.config
    return (
        settings.pin_lockout_attempts or config["DEFAULT_PIN_LOCKOUT_ATTEMPTS"],
        settings.pin_lockout_minutes or config["DEFAULT_PIN_LOCKOUT_MINUTES"],
    )
