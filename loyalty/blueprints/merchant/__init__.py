from loyalty.blueprints.merchant.views import bp

__all__ = ["bp"]
