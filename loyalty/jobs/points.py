"""Points expiry and its warnings, the birthday bonuses, the win-back emails and the owner's
retention figures, once a day in each merchant's early morning."""
from loyalty.jobs.context import job
from loyalty.services.delivery import mornings
from loyalty.services.delivery.alert_digest import digest_morning
from loyalty.services.delivery.birthdays import celebrate_birthdays
from loyalty.services.delivery.expiry_warnings import warn_expiring_points
from loyalty.services.delivery.win_back import lapse_bonuses, win_back_morning
from loyalty.services.engine.points import expire_points
from loyalty.services.merchant import retention_snapshots


@job
def start_mornings():
    """Hourly: start the morning run of each merchant whose morning has come."""
    return mornings.start_due_mornings(merchant_morning)


@job
def merchant_morning(*merchant_ids):
    """The daily run of each merchant named (the schedule sends them in batches,
    ``mornings.MORNING_BATCH``: a job's start, its process and its first statements, is paid
    once per batch, not once per merchant). One merchant failing never keeps the others
    waiting; the job then fails, and its retry runs the batch again, which changes nothing
    for the merchants done (each step happens once a day). Returns the merchant's figures, or
    for several ``{merchant id: figures}``."""
    return mornings.run_batch(_one_morning, merchant_ids)


def _one_morning(merchant_id):
    """One merchant's daily run: expire what is due, warn who is close to it, give the
    birthday bonuses due (their emails to those who consented), then the win-back emails,
    then the owner's retention figures up to the end of yesterday (so their page is fast),
    then the fraud alert digest to owners and managers when there are new alerts.
    Lapsed win-back bonuses are taken back first: expiry leaves a card with an open one alone."""
    lapsed = lapse_bonuses(merchant_id)
    expired = expire_points(merchant_id=merchant_id)
    warned = warn_expiring_points(merchant_id=merchant_id)
    birthdays = celebrate_birthdays(merchant_id)
    win_back = win_back_morning(merchant_id)
    win_back["lapsed"] += lapsed
    retention = retention_snapshots.morning(merchant_id)
    alerts = digest_morning(merchant_id)
    return {"expired": expired, "warned": warned, "birthdays": birthdays, "win_back": win_back,
            "retention": retention, "alert_digests": alerts}
