"""Absence import: files from Wilma/Primus (CSV, XLSX), validation, range replacement, the pages and the API."""

from __future__ import annotations

import datetime
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context
from rest_framework.authtoken.models import Token

from absences.models import AbsenceImport, AbsencePeriodTotal, AbsenceRecord
from absences.services import imports as service
from absences.services.imports import import_file
from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    sign_in,
)
from welfare.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/absences/imports/new/"
API_URL = "/api/v1/absences/imports/"
FI_HEADER = "Oppilasnumero;Päivämäärä;Tunnit;Poissaolon syy\r\n"


@pytest.fixture(autouse=True)
def _english(settings):
    """English messages, in the service and in pages requested without Accept-Language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pupils(in_espoo):
    """Two schools of 2026–2027 with pupils A1, A2 (school A) and B1 (school B); the national categories
    (seeded by migration 0003, re-created here: a transactional test elsewhere may have flushed them)."""
    importlib.import_module("absences.migrations.0003_national_categories").create(django_apps, None)
    year = SchoolYearFactory()
    school_a, school_b = SchoolFactory(external_id="A"), SchoolFactory(external_id="B")
    group_a = TeachingGroupFactory(school=school_a, school_year=year)
    group_b = TeachingGroupFactory(school=school_b, school_year=year)
    return {
        "year": year, "school_a": school_a, "school_b": school_b,
        "A1": StudentFactory(external_id="A1", group=group_a),
        "A2": StudentFactory(external_id="A2", group=group_a),
        "B1": StudentFactory(external_id="B1", group=group_b),
    }


def csv_bytes(rows: list[str], header: str = FI_HEADER, encoding: str = "cp1252") -> bytes:
    return (header + "".join(row + "\r\n" for row in rows)).encode(encoding)


def run(content: bytes, name: str = "poissaolot.csv", **kwargs) -> AbsenceImport:
    return import_file(io.BytesIO(content), file_name=name, **kwargs)


def errors(record: AbsenceImport) -> list[tuple]:
    return [(e["line"], e["column"], e["value"]) for e in record.errors]


def stored() -> set[tuple]:
    return {(r.student.external_id, r.date, r.category.code, r.hours)
            for r in AbsenceRecord.objects.select_related("student", "category")}


def d(day: int, month: int = 10) -> datetime.date:
    return datetime.date(2026, month, day)


# --- Files: encodings, separators, languages, XLSX -------------------------------------------


def test_wilma_semicolon_windows_1252_decimal_comma(pupils):
    record = run(csv_bytes(["A1;5.10.2026;2,5;Selvittämätön poissaolo", "A2;06.10.2026;3;sairaus",
                            "B1;2026-10-07;1;Ennalta anottu vapaa"]))
    assert record.status == AbsenceImport.Status.DONE, record.errors
    assert (record.rows_total, record.rows_created, record.range_start, record.range_end) == (3, 3, d(5), d(7))
    assert stored() == {("A1", d(5), "unexplained", Decimal("2.50")), ("A2", d(6), "health", Decimal("3.00")),
                        ("B1", d(7), "leave", Decimal("1.00"))}
    assert AbsenceRecord.objects.filter(source_import=record).count() == 3
    assert len(record.file_sha256) == 64
    assert not (service.source_path(record)).exists()  # the uploaded file is deleted afterwards


def test_comma_utf8_bom_english_headers(pupils):
    content = "\ufeffStudent id,Date,Hours,Category\nA1,5.10.2026,\"1,5\",health\nA2,6.10.2026,2,Unexplained\n"
    record = run(content.encode("utf-8"))
    assert record.status == AbsenceImport.Status.DONE, record.errors
    assert stored() == {("A1", d(5), "health", Decimal("1.50")), ("A2", d(6), "unexplained", Decimal("2.00"))}


def test_swedish_headers_and_names(pupils):
    content = csv_bytes(["A1;5.10.2026;2;Frånvaro av hälsoskäl", "B1;6.10.2026;1;olovlig"],
                        header="Elevnummer;Datum;Timmar;Orsak\r\n", encoding="utf-8")
    record = run(content)
    assert record.status == AbsenceImport.Status.DONE, record.errors
    assert stored() == {("A1", d(5), "health", Decimal("2.00")), ("B1", d(6), "unexplained", Decimal("1.00"))}


def test_xlsx_with_date_cells(pupils):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Oppilasnumero", "Päivämäärä", "Tunnit", "Luokka"])
    sheet.append(["A1", datetime.datetime(2026, 10, 5), 2.5, "terveys"])
    sheet.append(["A2", "6.10.2026", 3, "leave"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    record = run(buffer.getvalue(), name="poissaolot.xlsx")
    assert record.status == AbsenceImport.Status.DONE, record.errors
    assert stored() == {("A1", d(5), "health", Decimal("2.50")), ("A2", d(6), "leave", Decimal("3.00"))}


def test_unknown_column_is_ignored_with_a_notice(pupils):
    content = csv_bytes(["A1;5.10.2026;2;sairaus;Virtanen"], header="Oppilasnumero;Päivämäärä;Tunnit;Syy;Sukunimi\r\n")
    record = service.receive_upload(io.BytesIO(content), file_name="p.csv")
    assert service.ignored_headers(record) == ["Sukunimi"] and service.missing_fields(record) == []
    assert service.start_import(record).status == AbsenceImport.Status.DONE


# --- Idempotence and range replacement ------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing(pupils):
    content = csv_bytes(["A1;5.10.2026;2;sairaus", "A2;6.10.2026;3;sairaus"])
    first, second = run(content), run(content)
    assert (first.rows_created, first.rows_unchanged) == (2, 0)
    assert (second.status, second.rows_created, second.rows_replaced, second.rows_removed,
            second.rows_unchanged) == (AbsenceImport.Status.DONE, 0, 0, 0, 2)
    assert second.file_sha256 == first.file_sha256
    assert AbsenceRecord.objects.count() == 2


def test_a_pupil_deleted_during_the_import_aborts_it_and_nothing_is_written(pupils, monkeypatch):
    """absences_absencerecord has no per-row FK triggers: the merge locks the file's pupils and
    refuses to write rows for one that disappeared after validation."""
    from absences.services.imports.writing import Stage

    original = Stage.merge

    def merge_after_a_deletion(stage, *args, **kwargs):
        pupils["A2"].delete()  # the register removed the pupil between validation and merge
        return original(stage, *args, **kwargs)

    monkeypatch.setattr(Stage, "merge", merge_after_a_deletion)
    record = run(csv_bytes(["A1;5.10.2026;2;sairaus", "A2;6.10.2026;3;sairaus"]))
    assert record.status == AbsenceImport.Status.FAILED
    assert "removed from the register" in record.errors[0]["message"]
    assert AbsenceRecord.objects.count() == 0


def test_deleting_a_pupil_deletes_their_absence_records(pupils):
    run(csv_bytes(["A1;5.10.2026;2;sairaus", "A2;6.10.2026;3;sairaus"]))
    pupils["A1"].delete()
    assert stored() == {("A2", d(6), "health", Decimal("3.00"))}
    assert AbsenceRecord.objects.count() == 1


def test_a_file_replaces_its_date_range_for_its_pupils(pupils):
    run(csv_bytes(["A1;5.10.2026;2;sairaus", "A1;20.10.2026;1;sairaus", "A1;8.10.2026;4;luvaton",
                   "B1;5.10.2026;3;sairaus"]))
    record = run(csv_bytes(["A1;1.10.2026;1;sairaus", "A1;8.10.2026;2;luvaton", "A1;14.10.2026;6;lupa"]))
    assert (record.rows_created, record.rows_replaced, record.rows_removed, record.rows_unchanged) == (2, 1, 1, 0)
    assert (record.range_start, record.range_end) == (d(1), d(14))
    assert stored() == {
        ("A1", d(1), "health", Decimal("1.00")), ("A1", d(8), "unexplained", Decimal("2.00")),
        ("A1", d(14), "leave", Decimal("6.00")),
        ("A1", d(20), "health", Decimal("1.00")),  # outside the file's range: untouched
        ("B1", d(5), "health", Decimal("3.00")),  # another pupil: untouched
    }


def test_period_totals(pupils):
    header = "Oppilasnumero;Alkaa;Päättyy;Poissaolon syy;Tunnit\r\n"
    record = run(csv_bytes(["A1;1.8.2026;31.10.2026;sairaus;12,5", "A1;1.8.2026;31.10.2026;luvaton;3"], header))
    assert record.kind == AbsenceImport.Kind.PERIOD_TOTALS
    assert (record.status, record.rows_created) == (AbsenceImport.Status.DONE, 2), record.errors
    again = run(csv_bytes(["A1;1.8.2026;31.10.2026;sairaus;14"], header))
    assert (again.rows_created, again.rows_replaced, again.rows_removed) == (0, 1, 1)
    assert list(AbsencePeriodTotal.objects.values_list("category__code", "hours")) == [("health", Decimal("14.00"))]


# --- Bad input: a clear message, nothing written ----------------------------------------------


def future() -> str:
    return f"{datetime.date.today() + datetime.timedelta(days=40):%d.%m.%Y}"


BAD_ROWS = [
    ("unknown pupil", ["X9;5.10.2026;2;sairaus"], (2, "Oppilasnumero", "X9"), 'Unknown student id "X9"'),
    ("negative hours", ["A1;5.10.2026;-2;sairaus"], (2, "Tunnit", "-2"), "cannot be negative"),
    ("over a school day", ["A1;5.10.2026;13;sairaus"], (2, "Tunnit", "13"), "more than a school day"),
    ("not a number", ["A1;5.10.2026;kaksi;sairaus"], (2, "Tunnit", "kaksi"), "not a number of hours"),
    ("bad date", ["A1;31.9.2026;2;sairaus"], (2, "Päivämäärä", "31.9.2026"), "is not a date"),
    ("outside any school year", ["A1;5.10.2020;2;sairaus"], (2, "Päivämäärä", "5.10.2020"), "not in any school year"),
    ("future", ["A1;{future};2;sairaus"], (2, "Päivämäärä", "{future}"), "in the future"),
    ("unknown category", ["A1;5.10.2026;2;hammaslääkäri"], (2, "Poissaolon syy", "hammaslääkäri"),
     "Unknown absence category"),
    ("duplicate row", ["A1;5.10.2026;2;sairaus", "A1;05.10.2026;3;terveys"], (3, "Oppilasnumero", "A1"),
     "second row for 05.10.2026"),
]


@pytest.mark.parametrize(("rows", "where", "message"), [case[1:] for case in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_bad_rows_are_reported_and_nothing_is_written(pupils, rows, where, message):
    run(csv_bytes(["B1;1.10.2026;1;sairaus"]))  # data that must stay as it is
    before = stored()
    rows = [row.replace("{future}", future()) for row in ["A2;6.10.2026;1;sairaus", *rows]]
    where = tuple(str(part).replace("{future}", future()) for part in where)
    record = run(csv_bytes(rows))
    assert record.status == AbsenceImport.Status.FAILED
    line, column, value = where
    assert (int(line) + 1, column, value) in errors(record)  # + 1: the valid first row
    assert any(message in e["message"] for e in record.errors), record.errors
    assert stored() == before


def test_all_errors_are_reported_together(pupils):
    record = run(csv_bytes(["X1;5.10.2026;2;sairaus", "A1;5.10.2026;-1;sairaus", "A2;bad;2;nope"]))
    assert record.error_count == 4
    assert errors(record) == [(2, "Oppilasnumero", "X1"), (3, "Tunnit", "-1"), (4, "Päivämäärä", "bad"),
                              (4, "Poissaolon syy", "nope")]


def test_two_school_years_in_one_file(pupils):
    SchoolYearFactory(name="2025–2026", start_date=d(1, 8).replace(year=2025), end_date=d(31, 7))
    record = run(csv_bytes(["A1;5.10.2026;2;sairaus", "A1;5.5.2026;2;sairaus"]))
    assert errors(record) == [(3, "Päivämäärä", "5.5.2026")]
    assert "one school year per file" in record.errors[0]["message"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty."),
    (b"\r\n \r\n", "The file is empty."),
    (FI_HEADER.encode("cp1252"), "The file has a header but no rows."),
    (FI_HEADER.encode("cp1252") + b"A1;5.10.2026;2;sairaus\x81\x8d\r\n", "neither UTF-8 nor Windows-1252"),
    (b"Oppilasnumero;P\xc3\xa4iv\xc3\xa4m\xc3\xa4\xc3\xa4r\xc3\xa4;Poissaolon syy\nA1;5.10.2026;sairaus\n",
     "Required column missing: hours"),
], ids=["empty", "blank lines", "header only", "wrong encoding", "missing column"])
def test_unreadable_files(pupils, content, message):
    record = run(content)
    assert record.status == AbsenceImport.Status.FAILED
    assert any(message in e["message"] for e in record.errors), record.errors
    assert AbsenceRecord.objects.count() == 0


def test_file_over_the_size_limit(pupils, settings):
    settings.IMPORT_MAX_BYTES = 100
    record = run(csv_bytes(["A1;5.10.2026;2;sairaus"] * 10))
    assert record.status == AbsenceImport.Status.FAILED
    assert "larger than the limit" in record.errors[0]["message"]
    assert AbsenceRecord.objects.count() == 0


def test_espoo_import_never_touches_vantaa(pupils, vantaa):
    with schema_context(vantaa.schema_name):
        year = SchoolYearFactory()
        StudentFactory(external_id="V1", group=TeachingGroupFactory(school_year=year))
    record = run(csv_bytes(["A1;5.10.2026;2;sairaus", "V1;5.10.2026;2;sairaus"]))
    assert errors(record) == [(3, "Oppilasnumero", "V1")]
    assert run(csv_bytes(["A1;5.10.2026;2;sairaus"])).status == AbsenceImport.Status.DONE
    with schema_context(vantaa.schema_name):
        assert not AbsenceRecord.objects.exists() and not AbsenceImport.objects.exists()


# --- Pages -------------------------------------------------------------------------------


def _staff(client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    sign_in(client, user)
    return user


def test_upload_mapping_and_result_in_the_browser(pupils, espoo_client):
    user = _staff(espoo_client, Role.MUNICIPAL_ADMIN)
    page = espoo_client.get(UPLOAD_URL)
    assert page.status_code == 200 and 'type="file"' in page.content.decode()
    content = csv_bytes(["A1;5.10.2026;2;sairaus", "A2;6.10.2026;1;lupa"],
                        header="Tunnus;Pvm;Määrä;Selite\r\n")  # names the auto-mapping does not all know
    response = espoo_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("p.csv", content)})
    record = AbsenceImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{record.pk}/columns/")
    mapping_page = espoo_client.get(response["Location"]).content.decode()
    assert "<caption>" in mapping_page and "<td>A1</td>" in mapping_page and 'role="alert"' in mapping_page
    assert "<script>" not in mapping_page and "style=" not in mapping_page
    response = espoo_client.post(response["Location"], {
        "kind": "daily", "column_0": "student", "column_1": "date", "column_2": "hours", "column_3": "category"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.rows_created, record.user_id) == (AbsenceImport.Status.DONE, 2, user.pk)
    detail = espoo_client.get(response["Location"]).content.decode()
    assert "<dd>2</dd>" in detail
    entry = AuditEvent.objects.get(object_type="absences.absenceimport")
    assert (entry.user_id, entry.object_id, entry.detail["created"]) == (user.pk, str(record.pk), 2)
    history = espoo_client.get("/absences/imports/").content.decode()
    assert "p.csv" in history and user.email in history and '<th scope="col">' in history


def test_mapping_rejects_a_missing_field(pupils, espoo_client):
    _staff(espoo_client, Role.MUNICIPAL_ADMIN)
    espoo_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("p.csv", csv_bytes(["A1;5.10.2026;2;sairaus"]))})
    record = AbsenceImport.objects.get()
    response = espoo_client.post(f"/absences/imports/{record.pk}/columns/", {
        "kind": "daily", "column_0": "student", "column_1": "date", "column_2": "", "column_3": "category"})
    assert response.status_code == 200 and "Choose a column for: hours." in response.content.decode()
    assert AbsenceRecord.objects.count() == 0


def test_errors_page_has_line_column_value(pupils, espoo_client):
    _staff(espoo_client, Role.MUNICIPAL_ADMIN)
    record = run(csv_bytes(["A1;5.10.2026;99;sairaus"]))
    body = espoo_client.get(f"/absences/imports/{record.pk}/", headers={"accept-language": "en"}).content.decode()
    assert "<caption>Errors in the file</caption>" in body and '<th scope="col">Line</th>' in body
    assert '<td class="num">2</td>' in body and "<td>Tunnit</td>" in body and "<td>99</td>" in body


def test_principal_imports_only_own_school(pupils, espoo_client):
    user = _staff(espoo_client, Role.PRINCIPAL, school=pupils["school_a"])
    record = run(csv_bytes(["A1;5.10.2026;2;sairaus", "B1;5.10.2026;2;sairaus"]), user=user)
    assert errors(record) == [(3, "Oppilasnumero", "B1")]
    assert record.errors[0]["message"] == "Pupil B1 is not a pupil of your school."
    assert run(csv_bytes(["A1;5.10.2026;2;sairaus"]), user=user).status == AbsenceImport.Status.DONE
    # Another user's import is not the principal's to see.
    other = run(csv_bytes(["B1;5.10.2026;2;sairaus"]))
    assert espoo_client.get(f"/absences/imports/{other.pk}/").status_code == 404


def test_class_teacher_gets_403(pupils, espoo_client):
    user = _staff(espoo_client, Role.CLASS_TEACHER, school=pupils["school_a"])
    assert espoo_client.get(UPLOAD_URL).status_code == 403
    response = espoo_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("p.csv", csv_bytes(["A1;5.10.2026;2;x"]))})
    assert response.status_code == 403
    token = Token.objects.get_or_create(user=user)[0].key
    api = Client(headers={"host": "espoo.localhost", "authorization": f"Token {token}"})
    assert api.post(API_URL, {"file": SimpleUploadedFile("p.csv", b"x")}).status_code == 403
    assert not AbsenceImport.objects.exists()


def test_large_files_run_in_celery_with_progress(pupils, espoo_client, monkeypatch, django_capture_on_commit_callbacks):
    _staff(espoo_client, Role.MUNICIPAL_ADMIN)
    monkeypatch.setattr(service, "ASYNC_MIN_BYTES", 0)
    espoo_client.post(UPLOAD_URL, {"file": SimpleUploadedFile("p.csv", csv_bytes(["A1;5.10.2026;2;sairaus"]))})
    record = AbsenceImport.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        espoo_client.post(f"/absences/imports/{record.pk}/columns/", {
            "kind": "daily", "column_0": "student", "column_1": "date", "column_2": "hours", "column_3": "category"})
    record.refresh_from_db()
    assert record.status == AbsenceImport.Status.PENDING and len(callbacks) == 1
    fragment = espoo_client.get(f"/absences/imports/{record.pk}/progress/").content.decode()
    assert 'role="progressbar"' in fragment and 'aria-valuenow="0"' in fragment
    assert 'hx-trigger="every 1s"' in fragment and ">Refresh</a>" in fragment
    callbacks[0]()  # the worker (eager in tests)
    record.refresh_from_db()
    assert (record.status, record.progress, record.rows_created) == (AbsenceImport.Status.DONE, 100, 1)
    response = espoo_client.get(f"/absences/imports/{record.pk}/progress/", headers={"hx-request": "true"})
    assert response["HX-Refresh"] == "true" and "hx-trigger" not in response.content.decode()


# --- API -------------------------------------------------------------------------------------


def _api(user) -> Client:
    token = Token.objects.get_or_create(user=user)[0].key
    return Client(headers={"host": "espoo.localhost", "authorization": f"Token {token}"})


def test_api_post_returns_counts_or_errors(pupils):
    user = UserFactory()
    StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
    api = _api(user)
    response = api.post(API_URL, {"file": SimpleUploadedFile("p.csv", csv_bytes(["A1;5.10.2026;2,5;sairaus"]))})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["rows_created"], body["errors"]) == ("done", 1, [])
    assert AbsenceImport.objects.get(pk=body["id"]).user_id == user.pk

    response = api.post(API_URL, {"file": SimpleUploadedFile("p.csv", csv_bytes(["A1;5.10.2026;20;sairaus"]))})
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"line": 2, "column": "Tunnit", "value": "20",
                                            "message": "20 hours is more than a school day (12 hours)."}
    listed = api.get(API_URL).json()
    assert [row["status"] for row in listed["results"]] == ["failed", "done"]


def test_api_mapping_field(pupils):
    user = UserFactory()
    StaffRoleFactory(user=user, role=Role.MUNICIPAL_ADMIN, school=None)
    content = csv_bytes(["A1;5.10.2026;2;sairaus"], header="Tunnus;Pvm;Määrä;Selite\r\n")
    response = _api(user).post(API_URL, {
        "file": SimpleUploadedFile("p.csv", content),
        "mapping": '{"Tunnus": "student", "Pvm": "date", "Määrä": "hours", "Selite": "category"}'})
    assert response.status_code == 201, response.content
    assert stored() == {("A1", d(5), "health", Decimal("2.00"))}



def test_threshold_evaluation_runs_after_commit_for_the_imported_pupils(pupils, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    import absences.services.evaluation as evaluation

    calls = []
    monkeypatch.setattr(evaluation, "evaluate_students", lambda ids, **kwargs: calls.append(sorted(ids)))
    with django_capture_on_commit_callbacks(execute=True):
        run(csv_bytes(["A1;5.10.2026;2;sairaus", "B1;6.10.2026;1;sairaus"]))
    assert calls == [sorted([pupils["A1"].pk, pupils["B1"].pk])]


def test_a_binary_file_is_refused(pupils):
    record = run(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", name="kuva.png")
    assert record.status == AbsenceImport.Status.FAILED
    assert "not CSV text or an Excel (XLSX) workbook" in record.errors[0]["message"]
