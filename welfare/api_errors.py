"""The API's exception handler (settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]).

Services raise django.core.exceptions.ValidationError (they know nothing about HTTP); every API
view answers it as DRF does its own: 400 with the errors by field, those of no field under
``non_field_errors``. So no viewset converts them by hand."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (exc.message_dict if hasattr(exc, "error_dict")
                  else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)
