"""The customers' side: the public program page, joining, the card page, their data.

Owns self-enrollment and its emails (``enrollment``), the public program page
(``storefront``), the card's own page (``card_page``), a customer's export and erasure
(``my_data``), the card handed to a phone at the counter (``card_handoffs``) and the
customer's optional birthday (``birthdays``).

May import: the engine, the shared services, ``merchant.texts``, ``platform.accounts`` and
``delivery.mail``. Never ``wallets``: a card change is recorded with ``services.events``.
"""
