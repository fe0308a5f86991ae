"""The merchant's side: what an owner sets up, edits and reads.

Owns the program and reward catalogue (``programs``; its birthday bonus: ``birthday_bonus``),
the texts per language (``texts``),
branding and uploaded images, stores, the team and its invitations, statistics, exports,
the card directory, the getting-started checklist (``onboarding``), the counter poster and
the liability and breakage statement (``statement``, its CSV ``statement_csv``).

May import: the engine, the shared services, and (for invitations, the poster and emails)
``platform.accounts``/``platform.sessions``/``platform.password_links``, ``customers`` and
``delivery.mail``. A change wallet passes must follow is recorded with
``services.events.program_changed``; this area never imports ``wallets``.
"""
