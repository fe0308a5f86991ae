from loyalty.blueprints.terminal import phone_link, unlock  # noqa: F401  (register their views)
from loyalty.blueprints.terminal.views import bp

__all__ = ["bp"]
