"""Delivery: the work done after a change commits, and the daily runs.

Owns email (``mail``: templates, the outbox kind ``email``, SMTP), the merchants' mornings
(points expiry, expiry warnings, then the birthday bonuses due and their emails:
``birthdays``), the expiry warnings themselves and the recovery of
jobs a dead worker left behind (``job_recovery``). The outbox itself is shared
(``services.outbox``): every area records work in it.

May import: the engine and the shared services. The letters ``mail`` sends are found by
name (``mail.EMAILS``: ``"module:function"``), so it imports none of the areas that own them.
"""
