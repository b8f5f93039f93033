"""A service's django ValidationError reaches API clients as a 400 with the errors by field."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from welfare.api_errors import exception_handler


def test_field_errors_keep_their_fields():
    response = exception_handler(ValidationError({"occurred_on": ["The date cannot be in the future."]}), {})
    assert response.status_code == 400
    assert response.data == {"occurred_on": ["The date cannot be in the future."]}


def test_an_error_of_no_field_is_a_non_field_error():
    response = exception_handler(ValidationError("The case is closed."), {})
    assert response.status_code == 400 and response.data == {"non_field_errors": ["The case is closed."]}


def test_other_exceptions_are_left_to_drf():
    assert exception_handler(RuntimeError("boom"), {}) is None  # a 500, as before
