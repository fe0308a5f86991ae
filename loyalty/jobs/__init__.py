"""Background jobs: thin functions that call services, and the recurring schedule.

``python worker.py`` works the queues; ``python worker.py cron`` runs the schedule below
(one per deployment) with RQ's own cron scheduler, which enqueues each job when it is due
(``processes.Schedule``: it outlives a Redis outage and records each tick).
"""
from loyalty.i18n import N_
from loyalty.jobs.integrations import purge_idempotency_keys
from loyalty.jobs.outbox import drain_outbox
from loyalty.jobs.points import start_mornings
from loyalty.jobs.pruning import prune_old_rows
from loyalty.jobs.wallet import sync_wallet_passes
from loyalty.jobs.webhooks import send_due_webhooks

QUEUES = ("default", "email", "wallet", "webhooks")
#: (name, function, queue, how often: seconds or a cron line in UTC, what it does)
SCHEDULE = (
    ("drain-outbox", drain_outbox, "default", 5,
     N_("hands RQ the outbox rows still waiting (Redis was down) or lost, and puts back on "
        "their queues the jobs of a dead worker and the retries that are due")),
    ("mornings", start_mornings, "default", "7 * * * *",
     N_("starts points expiry and expiry warnings for each merchant whose morning has come")),
    ("wallet-sync", sync_wallet_passes, "wallet", "23 * * * *",
     N_("keeps wallet passes in sync")),
    ("idempotency-purge", purge_idempotency_keys, "default", "41 * * * *",
     N_("forgets the API's Idempotency-Key answers older than two days")),
    ("webhooks-due", send_due_webhooks, "webhooks", 30,
     N_("sends again the webhook deliveries whose retry time has come")),
    ("prune", prune_old_rows, "default", "53 2 * * *",
     N_("deletes delivered outbox rows, old sessions and webhook deliveries, and empties old "
        "emails' texts, after the days the PRUNE_* settings give")),
)


def schedule(cron_scheduler):
    """Register the recurring jobs on RQ's ``CronScheduler``."""
    for name, function, queue, every, _about in SCHEDULE:
        # Results kept long enough to tell the last run. A drain not started within a minute
        # (its queue busy with a long job) is dropped: the next one does its work.
        timing = ({"interval": every, "result_ttl": 600, "ttl": 60} if isinstance(every, int)
                  else {"cron": every, "result_ttl": 7200})
        cron_scheduler.register(function, queue_name=queue, name=name, **timing)
    return cron_scheduler
