"""The machine side of the product: what a till, a web shop or a shop's own site uses.

Owns the merchant's API keys (``api_keys``), the answers kept for ``Idempotency-Key``
retries (``idempotency``), the per-key request budget (``rate_limits``), orders credited and
refunded through the API (``orders``), the webhooks a merchant subscribes to and their
deliveries (``webhooks``).

May import: the engine, the shared services, ``customers`` (enrolment, as on the join page)
and ``merchant`` (the program and stores, as the owner pages read them). Nothing imports this
area but the API blueprint, the owner's Integrations page, the CLI and the jobs; it follows
the other areas' changes through ``services.events``, never through a direct call.
"""
