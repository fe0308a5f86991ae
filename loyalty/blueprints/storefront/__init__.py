from loyalty.blueprints.storefront import unsubscribe  # noqa: F401 - its routes
from loyalty.blueprints.storefront.views import bp

__all__ = ["bp"]
