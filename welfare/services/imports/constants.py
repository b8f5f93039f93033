"""Limits and kinds of the register import."""

from __future__ import annotations

import logging

from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

KINDS = ("schools", "groups", "students")
KIND_CHOICES = [
    ("schools", gettext_lazy("Schools")),
    ("groups", gettext_lazy("Teaching groups")),
    ("students", gettext_lazy("Students")),
]
ENCODINGS = ("utf-8-sig", "cp1252")
DELIMITERS = ";,\t"
CHUNK_BYTES = 64 * 1024
SAMPLE_CHARS = 64 * 1024
BATCH_SIZE = 2000
MIN_GRADE, MAX_GRADE = 0, 13
