"""The loyalty engine: the ledger and the rules every balance change goes through.

Owns cards, the ledger (``append``, ``lock_card``), the counter's actions (stamps, points,
rewards, voids, adjustments, points expiry, the birthday bonus: ``bonuses``), staff PINs, the card summary the counter shows,
the per-worker copy of each merchant's program, rewards and settings (``merchant_cache``), and
the read side of programs (``program_rows``) and of the merchant's texts per language
(``localized``).

May import: loyalty's foundation (models, database, extensions, clock, i18n, contacts, ...)
and the shared services (``services.errors``, ``services.audit``, ``services.outbox``,
``services.events``). Never another area: the areas import the engine, not the reverse.
A change others react to (a card's wallet passes) is recorded with ``services.events``.
"""
