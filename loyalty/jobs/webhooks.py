"""Webhook retries (every 30 s, on the ``webhooks`` queue; first attempts come through the
outbox)."""
from loyalty.jobs.context import job
from loyalty.services.integrations import webhook_sending


@job
def send_due_webhooks():
    """Send the webhook deliveries whose retry time has come, each card's in order (the old
    ones that are done go with the daily pruning)."""
    return webhook_sending.send_due()
