"""Generated documents (welfare.services.documents): queued, rendered in Celery with progress,
downloaded only by the requester while permitted, in the municipality that made them, until expiry."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.conftest import host
from tests.factories import SchoolFactory, StaffRoleFactory, UserFactory, sign_in
from welfare.models import GeneratedDocument, Role, StaffRole
from welfare.services import documents
from welfare.services.documents import DocumentRefused, DocumentRenderer, RenderResult

pytestmark = pytest.mark.django_db

CALLS: list[dict] = []


def _permitted(user, params) -> bool:
    from welfare.policy import Action, can

    return can(user, Action.VIEW_AGGREGATES)  # principals: yes; class teachers: no


def _render(params, progress) -> RenderResult:
    CALLS.append(params)
    progress(50)
    if params.get("fail"):
        raise RuntimeError("boom")
    return RenderResult(b"%PDF-1.7 test " + str(params.get("n", 0)).encode(), "test.pdf")


@pytest.fixture(autouse=True)
def test_renderer():
    CALLS.clear()
    documents.register_renderer(DocumentRenderer(kind="tests.sample", permitted=_permitted, render=_render,
                                                 title=lambda params: "Testiraportti"))
    yield
    documents._renderers.pop("tests.sample", None)


@pytest.fixture
def people(espoo):
    with schema_context(espoo.schema_name):
        school = SchoolFactory()
        owner, colleague = UserFactory(), UserFactory()
        StaffRoleFactory(user=owner, role=Role.PRINCIPAL, school=school)
        StaffRoleFactory(user=colleague, role=Role.PRINCIPAL, school=school)
    return owner, colleague


def client(municipality, user) -> Client:
    return sign_in(Client(headers={"host": host(municipality)}), user)


def request_as(espoo, user, params, capture) -> GeneratedDocument:
    with schema_context(espoo.schema_name), capture(execute=True):
        return documents.request_document("tests.sample", params, user)


def test_the_requester_follows_progress_and_downloads(espoo, people, django_capture_on_commit_callbacks):
    owner, _colleague = people
    document = request_as(espoo, owner, {"n": 7}, django_capture_on_commit_callbacks)
    assert CALLS == [{"n": 7}]  # rendered by the task (eager in tests), after commit
    browser = client(espoo, owner)
    page = browser.get(f"/documents/{document.pk}/").content.decode()
    assert "Testiraportti" in page and f'href="/documents/{document.pk}/download/"' in page
    response = browser.get(f"/documents/{document.pk}/download/")
    assert response.status_code == 200 and response.content == b"%PDF-1.7 test 7"
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="test.pdf"' in response["Content-Disposition"]


def test_progress_fragment_polls_until_done(espoo, people):
    owner, _colleague = people
    with schema_context(espoo.schema_name):
        document = GeneratedDocument.objects.create(kind="tests.sample", requested_by_id=owner.pk,
                                                    status=GeneratedDocument.Status.RUNNING, progress=40,
                                                    expires_at=timezone.now() + datetime.timedelta(hours=1))
    html = client(espoo, owner).get(f"/documents/{document.pk}/progress/").content.decode()
    assert '<progress max="100" value="40"' in html and 'hx-trigger="every 1s"' in html
    with schema_context(espoo.schema_name):
        GeneratedDocument.objects.filter(pk=document.pk).update(status="done", progress=100, content=b"x")
    html = client(espoo, owner).get(f"/documents/{document.pk}/progress/").content.decode()
    assert "hx-trigger" not in html and "/download/" in html


def test_the_task_is_idempotent(espoo, people, django_capture_on_commit_callbacks):
    owner, _colleague = people
    document = request_as(espoo, owner, {"n": 1}, django_capture_on_commit_callbacks)
    with schema_context(espoo.schema_name):
        assert documents.render_document(document.pk) == "skipped"
    assert len(CALLS) == 1


def test_a_failing_renderer_marks_the_document_failed(espoo, people, django_capture_on_commit_callbacks):
    owner, _colleague = people
    document = request_as(espoo, owner, {"fail": True}, django_capture_on_commit_callbacks)
    with schema_context(espoo.schema_name):
        document.refresh_from_db()
        assert document.status == GeneratedDocument.Status.FAILED
    assert client(espoo, owner).get(f"/documents/{document.pk}/download/").status_code == 404


def test_only_the_requester_while_still_permitted(espoo, people, django_capture_on_commit_callbacks):
    owner, colleague = people
    document = request_as(espoo, owner, {}, django_capture_on_commit_callbacks)
    assert client(espoo, colleague).get(f"/documents/{document.pk}/download/").status_code == 404
    assert client(espoo, colleague).get(f"/documents/{document.pk}/").status_code == 404
    with schema_context(espoo.schema_name):
        # Still staff here, but no longer permitted by the renderer: the document is gone for them.
        school = StaffRole.objects.get(user_id=owner.pk).school
        StaffRole.objects.filter(user_id=owner.pk).update(revoked_at=timezone.now())
        teacher_grant = StaffRoleFactory(user=owner, role=Role.CLASS_TEACHER, school=school)
    assert client(espoo, owner).get(f"/documents/{document.pk}/download/").status_code == 404
    assert client(espoo, owner).get(f"/documents/{document.pk}/").status_code == 404
    with schema_context(espoo.schema_name):
        StaffRole.objects.filter(pk=teacher_grant.pk).update(revoked_at=timezone.now())
    assert client(espoo, owner).get(f"/documents/{document.pk}/download/").status_code == 403  # no role here


def test_not_served_in_another_municipality(espoo, vantaa, people, django_capture_on_commit_callbacks):
    owner, _colleague = people
    document = request_as(espoo, owner, {}, django_capture_on_commit_callbacks)
    with schema_context(vantaa.schema_name):
        StaffRoleFactory(user=owner, role=Role.PRINCIPAL, school=SchoolFactory())
    assert client(vantaa, owner).get(f"/documents/{document.pk}/download/").status_code == 404


def test_expired_documents_are_gone(espoo, people, django_capture_on_commit_callbacks):
    owner, _colleague = people
    document = request_as(espoo, owner, {}, django_capture_on_commit_callbacks)
    with schema_context(espoo.schema_name):
        GeneratedDocument.objects.filter(pk=document.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert client(espoo, owner).get(f"/documents/{document.pk}/download/").status_code == 410
    with schema_context(espoo.schema_name):
        assert documents.delete_expired() == 1
    assert client(espoo, owner).get(f"/documents/{document.pk}/").status_code == 404


def test_refused_without_the_renderers_permission(espoo):
    with schema_context(espoo.schema_name):
        stranger = UserFactory()
        with pytest.raises(DocumentRefused):
            documents.request_document("tests.sample", {}, stranger)
        with pytest.raises(DocumentRefused):
            documents.request_document("no.such.kind", {}, stranger)
        assert not GeneratedDocument.objects.exists()
