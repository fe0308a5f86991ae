from loyalty.blueprints.storefront.views import bp

__all__ = ["bp"]
