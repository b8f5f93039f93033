"""``{% unread_notifications as n %}``: the signed-in user's unread notifications here (header)."""

from __future__ import annotations

from django import template
from django.db import connection

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """0 for visitors and on the public host; one indexed COUNT per page otherwise."""
    user = context.get("user")
    if user is None or not getattr(user, "is_authenticated", False) or connection.schema_name == "public":
        return 0
    from welfare.services.notifications import unread_count

    return unread_count(user.pk)
