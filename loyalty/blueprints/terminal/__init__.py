from loyalty.blueprints.terminal import (  # noqa: F401  (register their views)
    offline,
    phone_link,
    service_worker,
    unlock,
)
from loyalty.blueprints.terminal.views import bp

__all__ = ["bp"]
