from loyalty.blueprints.terminal import unlock  # noqa: F401  (registers its view)
from loyalty.blueprints.terminal.views import bp

__all__ = ["bp"]
