"""Settings and reports for merchant owners and, for their stores, managers. One module per
area; each registers its routes on the blueprint defined in ``base``."""
from loyalty.blueprints.merchant import program  # noqa: F401 - registers its routes
from loyalty.blueprints.merchant.base import bp

__all__ = ["bp"]
