from loyalty.blueprints.storefront import birthday, unsubscribe  # noqa: F401 - their routes
from loyalty.blueprints.storefront.views import bp

__all__ = ["bp"]
