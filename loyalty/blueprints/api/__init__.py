"""``/api/v1``: the machine side (``base.py`` says how a call is let in; one module per
resource holds its endpoints, ``spec.py`` the schemas' machinery)."""
from loyalty.blueprints.api import cards, program, purchases, redemptions  # noqa: F401 - views
from loyalty.blueprints.api.base import bp

__all__ = ["bp"]
