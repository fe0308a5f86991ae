"""The owner's getting-started checklist: each step ticks itself off from what exists."""
from dataclasses import dataclass

from sqlalchemy import exists, select

from loyalty.extensions import db
from loyalty.models import LoyaltyProgram, LoyaltyTransaction, Reward, StaffPin, TransactionType


#: A first stamp or purchase at the counter shows the terminal is in use.
COUNTER_ACTIONS = (TransactionType.STAMP_EARNED, TransactionType.POINTS_EARNED)


@dataclass(frozen=True)
class Step:
    key: str
    done: bool
    #: False while the step cannot be taken yet (what it needs is not built or set up).
    available: bool = True


def checklist(merchant_id):
    """The steps in order, in one statement."""
    program = select(LoyaltyProgram).where(LoyaltyProgram.merchant_id == merchant_id)
    has_program, is_active, has_reward, has_pin, used = db.session.execute(select(
        exists(program),
        exists(program.where(LoyaltyProgram.is_active.is_(True))),
        exists(select(Reward).where(Reward.merchant_id == merchant_id, Reward.is_active.is_(True))),
        exists(select(StaffPin).where(StaffPin.merchant_id == merchant_id,
                                      StaffPin.is_active.is_(True))),
        exists(select(LoyaltyTransaction).where(
            LoyaltyTransaction.merchant_id == merchant_id,
            LoyaltyTransaction.transaction_type.in_(COUNTER_ACTIONS))),
    )).one()
    program_type = db.session.scalar(program.with_only_columns(LoyaltyProgram.program_type))
    needs_rewards = program_type is not None and program_type.value in ("points", "hybrid")
    return [
        Step("program", has_program),
        Step("reward", has_reward or (has_program and not needs_rewards), available=has_program),
        Step("pin", has_pin),
        Step("activate", is_active, available=has_program),
        Step("poster", False, available=False),  # comes with the customer storefront
        Step("terminal", used, available=is_active),
    ]
