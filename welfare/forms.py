"""Form helpers shared by the apps."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceErrorsMixin:
    """For forms whose data a service validates again: ``add_service_errors`` ties the service's
    ValidationError to the fields it names (the rest to the whole form)."""

    def add_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        else:
            self.add_error(None, error)
