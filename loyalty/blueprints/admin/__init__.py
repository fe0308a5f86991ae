"""The platform back office; one module per area, each registering on ``views.bp``."""
from loyalty.blueprints.admin import jobs  # noqa: F401 - registers its routes
from loyalty.blueprints.admin.views import bp

__all__ = ["bp"]
