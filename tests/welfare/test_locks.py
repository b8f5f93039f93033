"""One municipality's locks (welfare.locks): a long job never runs twice at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from absences.tasks import evaluate_municipality_task
from welfare.locks import singleton, singleton_key

pytestmark = pytest.mark.django_db


def test_a_singleton_is_held_once_and_released_only_by_its_holder(in_espoo):
    with singleton("test-job", 60) as first:
        with singleton("test-job", 60) as second:
            assert first and not second
        assert cache.get(singleton_key("test-job"))  # the second run did not release the first's lock
    assert cache.get(singleton_key("test-job")) is None


def test_the_nightly_evaluation_skips_while_another_run_holds_the_lock(in_espoo):
    with singleton("absence-evaluation", 60) as held:
        assert held
        assert evaluate_municipality_task() == {"schema": "espoo", "skipped": True}
