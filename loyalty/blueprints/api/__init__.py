"""``/api/v1``: the machine side (``base.py`` says how a call is let in; one module per
resource holds its endpoints, ``spec.py`` the schemas' machinery)."""
from loyalty.blueprints.api import cards, program  # noqa: F401  (register their views)
from loyalty.blueprints.api import purchases, redemptions  # noqa: F401
from loyalty.blueprints.api.base import bp

__all__ = ["bp"]
