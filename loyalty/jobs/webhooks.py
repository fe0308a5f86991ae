"""Webhook retries (every 30 s, on the ``webhooks`` queue; first attempts come through the
outbox)."""
from loyalty.jobs.context import job
from loyalty.services.integrations import webhook_sending


@job
def send_due_webhooks():
    """Send the webhook deliveries whose retry time has come, each card's in order; forget
    those older than a month that are done."""
    webhook_sending.prune()
    return webhook_sending.send_due()
