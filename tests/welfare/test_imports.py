"""Register import (schools, teaching groups, students) from Wilma/Primus style CSV files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django_tenants.utils import schema_context

from tests.factories import (
    SchoolFactory,
    SchoolYearFactory,
    StaffRoleFactory,
    StudentFactory,
    TeachingGroupFactory,
    UserFactory,
    sign_in,
)
from welfare.models import AuditEvent, Role, School, SchoolType, SchoolYear, Student, TeachingGroup
from welfare.services.imports import import_register

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
IMPORT_URL = "/dashboard/imports/"



@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the Finnish catalogue would translate some words)."""
    with translation.override("en"):
        yield


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def issues(result) -> list[tuple]:
    return [(e.line, e.column, e.value) for e in result.errors]


@pytest.fixture
def register(in_espoo):
    """Espoo with the sample schools and 2026–2027 groups imported."""
    assert import_register("schools", data("schools_wilma_cp1252.csv")).ok
    assert import_register("groups", data("groups_bom_comma.csv")).ok
    return in_espoo


# --- Encodings, separators, languages ------------------------------------------------------


def test_wilma_style_windows_1252_semicolon_files_import_with_nordic_letters(in_espoo):
    schools = import_register("schools", data("schools_wilma_cp1252.csv"))
    groups = import_register("groups", data("groups_bom_comma.csv"))
    students = import_register("students", data("students_wilma_cp1252.csv"))

    assert (schools.ok, schools.created) == (True, 4)
    assert (groups.ok, groups.created) == (True, 4)
    assert (students.ok, students.created, students.warnings) == (True, 5, [])
    school = School.objects.get(external_id="E002")
    assert (school.name, school.school_type, school.language, school.grade_max) == (
        "Ådalens skola", SchoolType.BASIC, "sv", 6)
    assert School.objects.get(external_id="E004").school_type == SchoolType.PRE_PRIMARY
    pupil = Student.objects.select_related("group", "school").get(external_id="P100002")
    assert (pupil.last_name, pupil.first_name, pupil.school.name) == ("Öhman", "Björn", "Mäntymäen koulu")
    assert (pupil.grade, pupil.group.name, pupil.home_language) == (7, "7B", "sv")
    assert Student.objects.get(external_id="P100001").first_name == "Väinö"
    assert Student.objects.get(external_id="P100005").home_language == "so"


def test_comma_file_with_utf8_bom_reads_the_first_header(in_espoo):
    import_register("schools", data("schools_wilma_cp1252.csv"))
    result = import_register("groups", data("groups_bom_comma.csv"))
    assert result.ok and result.warnings == []  # the BOM did not turn "Koulu" into an unknown column
    year = SchoolYear.objects.get(name="2026–2027")  # "2026-2027" and "2026–2027" are the same year
    assert set(TeachingGroup.objects.filter(school__external_id="E001", school_year=year).values_list(
        "name", flat=True)) == {"7A", "7B", "1A"}


def test_swedish_headers(register):
    result = import_register("students", utf8(
        "Elevnummer;Förnamn;Efternamn;Skola;Årskurs;Klass;Hemspråk\n"
        "P2;Ebba;Lindqvist;E002;1;1A;svenska\n"
    ))
    assert result.ok, result.errors
    pupil = Student.objects.get(external_id="P2")
    assert (pupil.first_name, pupil.group.school.external_id, pupil.home_language) == ("Ebba", "E002", "sv")


def test_english_headers_any_case_and_spacing_and_tab_separated(register):
    result = import_register("schools", utf8(
        " SCHOOL ID \tName\tType\tLowest grade\tHighest grade\tLanguage\tArea\n"
        "E010\tKauklahden lukio\tupper secondary\t10\t12\tFinnish\tKauklahti\n"
    ))
    assert result.ok, result.errors
    school = School.objects.get(external_id="E010")
    assert (school.school_type, school.language, school.area) == (SchoolType.UPPER_SECONDARY, "fi", "Kauklahti")


def test_unknown_columns_are_ignored_with_a_warning(register):
    result = import_register("students", utf8(
        "Student id,First name,Last name,School,Grade,Group,Henkilötunnus\nP3,Aino,Virtanen,E001,7,7A,010101-123A\n"
    ))
    assert result.ok
    assert [(w.line, w.column) for w in result.warnings] == [(1, "Henkilötunnus")]


# --- Errors: nothing is written -----------------------------------------------------------------


def test_one_bad_row_names_line_column_value_and_writes_nothing(register):
    existing = StudentFactory(external_id="P100001", first_name="Vanha", group=TeachingGroup.objects.get(
        school__external_id="E001", name="7A"))
    counts = (School.objects.count(), TeachingGroup.objects.count(), Student.objects.count())
    bad = data("students_wilma_cp1252.csv").replace(b"P100003;K\xe4rkk\xe4inen;S\xe4de;E001;1;1A",
                                                    b"P100003;K\xe4rkk\xe4inen;S\xe4de;E001;15;1A")

    result = import_register("students", bad)

    assert not result.ok
    assert issues(result) == [(4, "Luokka-aste", "15")]
    assert "15" in result.errors[0].message and "0 to 13" in result.errors[0].message
    assert (School.objects.count(), TeachingGroup.objects.count(), Student.objects.count()) == counts
    existing.refresh_from_db()
    assert existing.first_name == "Vanha"  # the good row with the same id was not written either


def test_all_errors_are_reported_in_one_go(register):
    result = import_register("students", utf8(
        "Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka;Kotikieli\n"
        "P1;Aino;Virtanen;E001;7;7A;fi\n"  # fine
        "P2;;Virtanen;E001;7;7A;fi\n"  # empty first name
        "P3;Eino;Lahti;S999;7;7A;fi\n"  # unknown school
        "P4;Eeva;Koski;E001;seitsemän;7A;fi\n"  # grade not a number
        "P5;Pekka;Mäki;E002;7;1A;fi\n"  # grade outside the school's grades 1–6
        "P6;Liisa;Laine;E001;7;9Z;fi\n"  # unknown group
        "P7;Olli;Heikkinen;E001;7;7A;klingon\n"  # home language
        "P1;Aino;Virtanen;E001;7;7A;fi\n"  # duplicate student id
    ))
    assert issues(result) == [
        (3, "Etunimi", ""),
        (4, "Koulu", "S999"),
        (5, "Luokka-aste", "seitsemän"),
        (6, "Luokka-aste", "7"),
        (7, "Luokka", "9Z"),
        (8, "Kotikieli", "klingon"),
        (9, "Oppilasnumero", "P1"),
    ]
    messages = [e.message for e in result.errors]
    assert messages[1] == 'Unknown school id "S999": import the schools first.'
    assert "E002" in messages[3] and "1–6" in messages[3]
    assert "first on line 2" in messages[6]
    assert Student.objects.count() == 0


def test_bad_school_type_language_and_grade_order(in_espoo):
    result = import_register("schools", utf8(
        "Koulun tunnus;Nimi;Tyyppi;Alin luokka-aste;Ylin luokka-aste;Kieli\n"
        "E1;A;yliopisto;1;9;fi\n"
        "E2;B;lukio;12;10;sv\n"
        "E3;C;perusopetus;1;9;saksa\n"
    ))
    assert issues(result) == [(2, "Tyyppi", "yliopisto"), (3, "Ylin luokka-aste", "10"), (4, "Kieli", "saksa")]
    assert School.objects.count() == 0


def test_missing_columns_are_named(in_espoo):
    result = import_register("students", utf8("Oppilasnumero;Etunimi;Koulu\nP1;Aino;E001\n"))
    assert not result.ok
    missing = {e.column for e in result.errors}
    assert missing == {"last name", "grade", "group name"}
    assert all(e.line == 1 for e in result.errors)
    assert any('"Sukunimi", "Efternamn", "Last name"' in e.message for e in result.errors)


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \n"], ids=["zero bytes", "bom", "blank"])
def test_empty_file(in_espoo, content):
    result = import_register("schools", content)
    assert [e.message for e in result.errors] == ["The file is empty."]


def test_header_without_rows(in_espoo):
    result = import_register("schools", utf8("Koulun tunnus;Nimi;Tyyppi;Alin luokka-aste;Ylin luokka-aste;Kieli\n"))
    assert [e.message for e in result.errors] == ["The file has a header but no rows."]


def test_file_over_the_size_limit_is_refused(in_espoo, settings):
    settings.IMPORT_MAX_BYTES = 100
    content = data("schools_wilma_cp1252.csv")
    assert len(content) > 100
    result = import_register("schools", io.BytesIO(content))
    assert not result.ok and "larger than the limit" in result.errors[0].message
    assert School.objects.count() == 0
    upload = SimpleUploadedFile("schools.csv", content)  # size known up front
    assert "larger than the limit" in import_register("schools", upload).errors[0].message


def test_undecodable_bytes_are_reported_with_their_line(in_espoo):
    content = utf8("Koulun tunnus;Nimi;Tyyppi;Alin luokka-aste;Ylin luokka-aste;Kieli\n") + (
        b"E1;Koulu;perusopetus;1;9;fi\nE2;Bad \x81\x8d name;perusopetus;1;9;fi\n")
    result = import_register("schools", content)
    assert len(result.errors) == 1
    assert result.errors[0].line == 3 and result.errors[0].value == "81"
    assert "neither UTF-8 nor Windows-1252" in result.errors[0].message
    assert School.objects.count() == 0


def test_duplicate_student_id_in_one_file(register):
    result = import_register("students", utf8(
        "Oppilasnumero,Etunimi,Sukunimi,Koulu,Luokka-aste,Luokka\n"
        "P1,Aino,Virtanen,E001,7,7A\nP2,Eino,Lahti,E001,7,7A\nP1,Aino,Virtanen,E001,7,7B\n"
    ))
    assert issues(result) == [(4, "Oppilasnumero", "P1")]
    assert result.errors[0].message == 'Student id "P1" appears twice in the file; first on line 2.'
    assert Student.objects.count() == 0


def test_unknown_school_in_groups_file(in_espoo):
    result = import_register("groups", utf8("Koulu;Lukuvuosi;Luokka;Luokka-aste\nS999;2026-2027;7A;7\n"))
    assert issues(result) == [(2, "Koulu", "S999")]
    assert result.errors[0].message == 'Unknown school id "S999": import the schools first.'
    assert not SchoolYear.objects.filter(name="2026–2027").exists()  # not even the school year


def test_quoted_value_with_separator_is_one_value_and_unquoted_is_an_error(register):
    ok = import_register("schools", utf8(
        'Koulun tunnus,Nimi,Tyyppi,Alin luokka-aste,Ylin luokka-aste,Kieli\nE20,"Koulu, Espoo",perusopetus,1,9,fi\n'))
    assert ok.ok and School.objects.get(external_id="E20").name == "Koulu, Espoo"
    bad = import_register("schools", utf8(
        "Koulun tunnus,Nimi,Tyyppi,Alin luokka-aste,Ylin luokka-aste,Kieli\nE21,Koulu, Espoo,perusopetus,1,9,fi\n"))
    assert not bad.ok and bad.errors[0].line == 2


# --- Re-import --------------------------------------------------------------------------------


def test_reimport_of_the_same_file_changes_nothing(register):
    first = import_register("students", data("students_wilma_cp1252.csv"))
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)

    with CaptureQueriesContext(connection) as queries:
        again = import_register("students", data("students_wilma_cp1252.csv"))

    assert (again.ok, again.created, again.updated, again.unchanged) == (True, 0, 0, 5)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    schools = import_register("schools", data("schools_wilma_cp1252.csv"))
    groups = import_register("groups", data("groups_bom_comma.csv"))
    assert (schools.unchanged, schools.created, groups.unchanged, groups.created) == (4, 0, 4, 0)


def test_changed_name_on_reimport_updates_exactly_that_row(register):
    import_register("students", data("students_wilma_cp1252.csv"))
    before = {s.external_id: (s.pk, s.first_name, s.last_name, s.group_id) for s in Student.objects.all()}
    changed = data("students_wilma_cp1252.csv").replace(b"P100004;\xc5str\xf6m", b"P100004;Lindstr\xf6m")

    result = import_register("students", changed)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    after = {s.external_id: (s.pk, s.first_name, s.last_name, s.group_id) for s in Student.objects.all()}
    assert after.pop("P100004")[2] == "Lindström"
    before.pop("P100004")
    assert after == before


def test_reimport_without_the_optional_column_keeps_stored_values(register):
    import_register("students", data("students_wilma_cp1252.csv"))
    result = import_register("students", utf8(
        "Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka\nP100005;Aisha;Ahmed;E001;8;7A\n"))
    assert (result.updated, result.unchanged) == (1, 0)
    pupil = Student.objects.get(external_id="P100005")
    assert (pupil.grade, pupil.home_language) == (8, "so")


def test_student_groups_come_from_the_current_school_year_unless_told(register):
    old_year = SchoolYearFactory(name="2025–2026", start_date="2025-08-01", end_date="2026-07-31")
    school = School.objects.get(external_id="E001")
    old_group = TeachingGroupFactory(school=school, school_year=old_year, name="6A", grade=6)
    row = "Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka\nP9;Aino;Virtanen;E001;6;6A\n"

    assert issues(import_register("students", utf8(row))) == [(2, "Luokka", "6A")]  # 6A is last year's
    assert import_register("students", utf8(row), school_year="2025-2026").ok
    assert Student.objects.get(external_id="P9").group == old_group


def test_groups_file_creates_a_missing_school_year_august_to_july(register):
    result = import_register("groups", utf8("Koulu;Lukuvuosi;Luokka;Luokka-aste\nE001;2027-2028;8A;8\n"))
    assert result.ok and result.created_school_years == ["2027–2028"]
    year = SchoolYear.objects.get(name="2027–2028")
    assert (year.start_date.isoformat(), year.end_date.isoformat()) == ("2027-08-01", "2028-07-31")


def test_many_students_take_a_bounded_number_of_queries(register, django_assert_max_num_queries):
    lines = ["Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka"]
    lines += [f"Q{n:06d};Aino;Virtanen{n};E001;7;7{'AB'[n % 2]}" for n in range(5000)]
    with django_assert_max_num_queries(20):
        result = import_register("students", utf8("\n".join(lines)))
    assert result.created == 5000


# --- Municipalities are kept apart ---------------------------------------------------------------


def test_data_imported_in_espoo_does_not_appear_in_vantaa(espoo, vantaa):
    with schema_context(espoo.schema_name):
        assert import_register("schools", data("schools_wilma_cp1252.csv")).created == 4
    with schema_context(vantaa.schema_name):
        assert not School.objects.filter(external_id="E001").exists()
        result = import_register("groups", data("groups_bom_comma.csv"))
        assert issues(result)[0] == (2, "Koulu", "E001")  # Espoo's schools are unknown in Vantaa


# --- Management command ------------------------------------------------------------------------


def test_command_prints_counts(espoo):
    out = io.StringIO()
    call_command("import_register", "--municipality", "espoo", "--kind", "schools",
                 str(DATA / "schools_wilma_cp1252.csv"), stdout=out, stderr=io.StringIO())
    assert "espoo schools: created 4, updated 0, unchanged 0" in out.getvalue()
    with schema_context(espoo.schema_name):
        assert School.objects.filter(external_id__in=["E001", "E002", "E003", "E004"]).count() == 4


def test_command_prints_the_error_table_and_exits_1(espoo, tmp_path):
    bad = tmp_path / "students.csv"
    bad.write_bytes(utf8("Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka\nP1;Aino;Virtanen;S999;7;7A\n"))
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_register", "--municipality", "espoo", "--kind", "students", str(bad),
                     stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert "nothing was imported" in str(raised.value)
    table = err.getvalue().splitlines()
    assert table[0].split() == ["line", "column", "value", "message"]
    assert table[1].split()[:3] == ["2", "Koulu", "S999"]
    assert "Unknown school id" in table[1]


# --- Upload page -------------------------------------------------------------------------------


def _sign_in(client, role, school=None):
    user = UserFactory()
    StaffRoleFactory(user=user, role=role, school=school)
    sign_in(client, user)
    return user


def test_municipal_admin_uploads_and_sees_counts(in_espoo, espoo_client):
    user = _sign_in(espoo_client, Role.MUNICIPAL_ADMIN)
    page = espoo_client.get(IMPORT_URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'type="file"' in body and "<label" in body and "style=" not in body and "<script>" not in body

    response = espoo_client.post(IMPORT_URL, {
        "kind": "schools",
        "file": SimpleUploadedFile("koulut.csv", data("schools_wilma_cp1252.csv"), content_type="text/csv"),
    }, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert "<dd>4</dd>" in response.content.decode()
    assert School.objects.filter(name="Mäntymäen koulu").exists()
    entry = AuditEvent.objects.get(object_type="register_import")
    assert (entry.user_id, entry.object_id, entry.detail["created"]) == (user.pk, "schools", 4)


def test_municipal_admin_sees_errors_with_line_numbers(register, espoo_client):
    _sign_in(espoo_client, Role.MUNICIPAL_ADMIN)
    content = utf8("Oppilasnumero;Etunimi;Sukunimi;Koulu;Luokka-aste;Luokka\n"
                   "P1;Aino;Virtanen;E001;7;7A\nP2;Eino;Lahti;S999;7;7A\n")
    response = espoo_client.post(IMPORT_URL, {"kind": "students", "file": SimpleUploadedFile("o.csv", content)},
                                 headers={"accept-language": "en"})
    body = response.content.decode()
    assert "<caption>" in body and '<th scope="col">' in body
    assert '<td class="num">3</td>' in body and "<td>Koulu</td>" in body and "<td>S999</td>" in body
    assert "Unknown school id &quot;S999&quot;: import the schools first." in body
    assert Student.objects.count() == 0


def test_class_teacher_gets_403(in_espoo, espoo_client):
    school = SchoolFactory()
    _sign_in(espoo_client, Role.CLASS_TEACHER, school=school)
    assert espoo_client.get(IMPORT_URL).status_code == 403
    response = espoo_client.post(IMPORT_URL, {
        "kind": "schools", "file": SimpleUploadedFile("k.csv", data("schools_wilma_cp1252.csv"))})
    assert response.status_code == 403
    assert not School.objects.filter(external_id="E001").exists()


def test_visitor_is_sent_to_sign_in(municipalities, espoo_client):
    response = espoo_client.get(IMPORT_URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_semicolon_file_whose_every_name_has_a_comma(in_espoo):
    result = import_register("schools", utf8(
        "Koulun tunnus;Nimi;Tyyppi;Alin luokka-aste;Ylin luokka-aste;Kieli\n"
        "E30;Koulu, Espoo;perusopetus;1;9;fi\nE31;Skola, Esbo;perusopetus;1;9;sv\n"))
    assert result.ok, result.errors
    assert School.objects.get(external_id="E31").name == "Skola, Esbo"
