from loyalty.blueprints.terminal.views import bp

__all__ = ["bp"]
