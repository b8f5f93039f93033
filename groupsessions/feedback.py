"""The anonymous feedback form's statements and the one-response-per-device mechanism.

A device gets a random id in a signed cookie (``DEVICE_COOKIE``); the server stores only an HMAC
of that id keyed with the session, so a response cannot be tied to a device across sessions and
the id itself never reaches the database. Clearing cookies lets a device answer again: the form is
anonymous by design, so this is a guard against double-clicks and casual repeats, with the rate
limit (views_feedback) against floods.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from groupsessions.models import STATEMENT_FIELDS

DEVICE_COOKIE = "yhdessa_feedback_device"
DEVICE_COOKIE_SALT = "groupsessions.feedback.device"
DEVICE_COOKIE_MAX_AGE = 365 * 24 * 3600

# Plain language (selkokieli in Finnish): short, one idea each, the pupil's own view.
STATEMENTS = {
    "statement_1": _("I know what the school's welfare staff do."),
    "statement_2": _("I know where to get help at school if I need it."),
    "statement_3": _("It would be easy for me to talk to the welfare staff."),
    "statement_4": _("This meeting was useful for me."),
}
assert tuple(STATEMENTS) == STATEMENT_FIELDS
OPEN_QUESTION = _("What else would you like to tell us or ask?")
SCALE = (
    (1, _("1 – Not true")),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, _("5 – Very true")),
)
FEEDBACK_LANGUAGES = ("fi", "sv", "en")


def new_device_id() -> str:
    return secrets.token_urlsafe(18)


def device_id_from(request) -> str | None:
    """The device id from the signed cookie, or None when it is missing or tampered with."""
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)
    except signing.BadSignature:
        return None
    return value if value and 10 <= len(value) <= 64 else None


def set_device_cookie(response, device_id: str, *, secure: bool) -> None:
    response.set_signed_cookie(DEVICE_COOKIE, device_id, salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_MAX_AGE,
                               httponly=True, samesite="Lax", secure=secure)


def device_hash(session_token: str, device_id: str) -> str:
    """HMAC-SHA256 of the device id, keyed per session (never the id itself)."""
    key = hashlib.sha256(f"{settings.SECRET_KEY}:groupsessions:{session_token}".encode()).digest()
    return hmac.new(key, device_id.encode(), hashlib.sha256).hexdigest()
