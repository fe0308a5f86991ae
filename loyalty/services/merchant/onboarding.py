"""The owner's getting-started checklist: each step ticks itself off from what exists."""
from dataclasses import dataclass

from sqlalchemy import exists, select

from loyalty.extensions import db
from loyalty.models import (
    AuditEntry,
    LoyaltyProgram,
    LoyaltyTransaction,
    Reward,
    StaffPin,
    Store,
    TransactionType,
)
from loyalty.services.merchant.poster import PRINTED as POSTER_PRINTED

#: A first stamp or purchase at the counter shows the terminal is in use.
COUNTER_ACTIONS = (TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED)


@dataclass(frozen=True)
class Step:
    key: str
    done: bool
    #: The earlier step this one waits for (its page says so and links there), or None.
    needs: str | None = None


def checklist(merchant_id):
    """The steps in order, in one statement. A step that needs an earlier one names the first
    of those still open, so following the list in order never reaches a page that cannot be
    used yet."""
    program = select(LoyaltyProgram).where(LoyaltyProgram.merchant_id == merchant_id)
    open_stores = select(Store.id).where(Store.merchant_id == merchant_id,
                                         Store.is_active.is_(True))
    has_program, is_active, has_reward, has_store, has_pin, printed, used = db.session.execute(
        select(
            exists(program),
            exists(program.where(LoyaltyProgram.is_active.is_(True))),
            exists(select(Reward).where(Reward.merchant_id == merchant_id,
                                        Reward.is_active.is_(True))),
            exists(open_stores),
            # A PIN counts once it works: a PIN of a closed store does not.
            exists(select(StaffPin).where(StaffPin.merchant_id == merchant_id,
                                          StaffPin.is_active.is_(True),
                                          StaffPin.store_id.in_(open_stores))),
            exists(select(AuditEntry).where(AuditEntry.merchant_id == merchant_id,
                                            AuditEntry.action == POSTER_PRINTED)),
            exists(select(LoyaltyTransaction).where(
                LoyaltyTransaction.merchant_id == merchant_id,
                LoyaltyTransaction.transaction_type.in_(COUNTER_ACTIONS))),
        )).one()
    program_type = db.session.scalar(program.with_only_columns(LoyaltyProgram.program_type))
    needs_rewards = program_type is not None and program_type.value in ("points", "hybrid")
    done = {"program": has_program, "store": has_store, "activate": is_active}

    def first_missing(*keys):
        return next((key for key in keys if not done[key]), None)

    return [
        Step("program", has_program),
        Step("reward", has_reward or (has_program and not needs_rewards),
             needs=first_missing("program")),
        Step("store", has_store),
        Step("pin", has_pin, needs=first_missing("store")),
        Step("activate", is_active, needs=first_missing("program")),
        Step("poster", printed, needs=first_missing("program")),
        Step("terminal", used, needs=first_missing("store", "activate")),
    ]
