"""The year plan (A3 landscape: wheel + table) and the year-end evaluation report, made in Celery."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django_tenants.utils import schema_context

from annualclock.models import Status
from tests.annualclock.factories import ActivityFactory, EvaluationFactory
from welfare.models import GeneratedDocument

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes, tmp_path) -> tuple[str, str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return text, info


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
@pytest.mark.parametrize("kind", ["plan", "report"])
def test_pdf_is_made_in_celery_and_downloaded(espoo, world, client_for, kind, tmp_path,
                                              django_capture_on_commit_callbacks):
    with schema_context(espoo.schema_name):
        done = ActivityFactory(clock=world.clock, title_fi="Ryhmäytyminen", status=Status.DONE)
        EvaluationFactory(activity=done, what_happened="Kaikki luokat mukana", reach=3)
        ActivityFactory(clock=world.clock, title_fi="Vanhempainilta", month_start=10, month_end=10)
    client = client_for(world.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/annual-clock/clocks/{world.clock.pk}/pdf/{kind}/")
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        document = GeneratedDocument.objects.get()
    assert response["Location"] == f"/documents/{document.pk}/"
    assert document.status == "done" and document.progress == 100, document.error
    download = client.get(f"/documents/{document.pk}/download/")
    assert download.status_code == 200
    text, info = pdf_text(b"".join(download.streaming_content) if download.streaming else download.content,
                          tmp_path)
    assert "Ryhmäytyminen" in text and "Kaivomäen koulu" in text
    if kind == "plan":
        assert "(A3)" in info and "1190" in info.split("Page size:")[1].split("x")[0]  # landscape: wide
        assert "Vanhempainilta" in text and "Lokakuu" in text
    else:
        assert "Kaikki luokat mukana" in text and "<5" in text  # a reach of 3 is suppressed


def test_another_schools_staff_cannot_request_the_pdf(espoo, world, client_for):
    response = client_for(world.other_principal).post(f"/annual-clock/clocks/{world.clock.pk}/pdf/plan/")
    assert response.status_code == 404
    with schema_context(espoo.schema_name):
        assert not GeneratedDocument.objects.exists()
