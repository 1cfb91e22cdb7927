"""The FastAPI edge of the Data Agency: ``create_app(settings)``, one router per resource."""

from everest_elearn.api.app import create_app

__all__ = ["create_app"]
