"""The loyalty engine: the ledger and the rules every balance change goes through.

Owns cards, the ledger (``append``, ``lock_card``), the counter's actions (stamps, points,
rewards, voids, adjustments, points expiry), staff PINs, the card summary the counter shows,
and the per-worker copy of each merchant's program, rewards and settings (``merchant_cache``).

May import: loyalty's foundation (models, database, extensions, clock, i18n, contacts, ...)
and the shared services (``services.errors``, ``services.audit``, ``services.outbox``,
``services.events``). Never another area: the areas import the engine, not the reverse.
A change others react to (a card's wallet passes) is recorded with ``services.events``.
"""
