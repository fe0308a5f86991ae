from loyalty.blueprints.auth import workplaces  # noqa: F401 - registers its routes on bp
from loyalty.blueprints.auth.views import bp

__all__ = ["bp"]
