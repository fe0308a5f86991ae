"""Delivery: the work done after a change commits, and the daily runs.

Owns email (``mail``: templates, the outbox kind ``email``, SMTP), the merchants' mornings
(points expiry, expiry warnings, then the birthday bonuses due and their emails:
``birthdays``, then the win-back emails and bonuses: ``win_back``, then the fraud alert
digest to owners and managers: ``alert_digest``), the expiry warnings
themselves, marketing email (``marketing``: consent to offers by email, the one-click
unsubscribe and its headers) and the recovery of jobs a dead worker left behind
(``job_recovery``). The outbox itself is shared
(``services.outbox``): every area records work in it.

May import: the engine and the shared services, and the merchant area's ``fraud_alerts``
(the digest names alerts as the alerts page does). The letters ``mail`` sends are found by
name (``mail.EMAILS``: ``"module:function"``), so it imports none of the areas that own them.
"""
