"""The platform: accounts, sign-in sessions and the back office.

Owns users and tenancy set-up (``accounts``), server-side sessions, password reset links,
the back office's records (soft delete and restore), opening a merchant (``merchant_admin``),
the platform's figures (``stats``), the job monitor and the demo data.

May import: the engine, the shared services, ``merchant`` (the demo data, a merchant's owner
invitation, the programs' figures) and ``delivery`` (emails, the job machinery it watches).
"""
