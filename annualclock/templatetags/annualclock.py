from django import template

from welfare.aggregates import suppress_count

register = template.Library()


@register.filter
def suppressed(value):
    """A count of people as published to others than its own school's welfare group: 1–4 → "<5"."""
    return "–" if value is None else suppress_count(int(value))
