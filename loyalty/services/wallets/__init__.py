"""Wallets: Apple and Google passes, and keeping them in step with their card.

Owns the Apple pass (``apple_pass``, ``pass_images``), Apple's PassKit web service
(``passkit``) and push service (``apns``), Google Wallet (``google``), the outbox handlers
that update passes (``sync``) and which wallets are configured (``status``).

May import: the engine, the shared services and ``merchant`` (texts, branding, images).
The other areas never import it: they record ``services.events`` and ``sync`` registers
the outbox handlers that react (imported by ``loyalty/__init__.py``, so web and worker
processes both have them).
"""
