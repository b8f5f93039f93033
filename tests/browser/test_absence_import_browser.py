"""In a real browser: a principal uploads an absence file with errors, reads the error report (line,
column, value), fixes the file and uploads it again; the pupil's hours cross the first step of the
municipality's staircase and the class teacher of the pupil's group finds the pupil in "my pupils
needing action". axe-core on the upload, column mapping, error report, result, history and policy
list pages; no sideways scroll on a 360 px phone on the upload and error pages."""

from __future__ import annotations

import datetime
import re

import pytest

from tests.browser.support import CHROMIUM, SKIP_REASON

if not CHROMIUM.exists():
    pytest.skip(SKIP_REASON, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from tests.browser.pages import ShellPage, assert_accessible  # noqa: E402
from tests.browser.test_audit_browser import make_user, sign_in_with_totp  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# English pages: stable texts (the import's error messages are stored in the request's language).
ENGLISH = "en-US"
HEADER = "Oppilasnumero;Päivämäärä;Tunnit;Poissaolon syy"
UPLOAD = "/absences/imports/new/"
ABSENCE_DAYS = 6  # × 6 h = 36 h: over the LAPE staircase's first step (30 h), under the second (50 h)


def school_days_before(today: datetime.date, count: int) -> list[datetime.date]:
    """``count`` weekdays before today, every other weekday (so the consecutive-days rule stays quiet
    and the only escalation is the 30 h step), oldest first."""
    days, day = [], today
    while len(days) < count * 2:
        day -= datetime.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return sorted(days[::2])


def school_year_around(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The school year containing today (1 August onwards); early in August it starts earlier,
    so that the absence days before today fall inside it."""
    start = datetime.date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    start = min(start, today - datetime.timedelta(days=40))
    return start, start + datetime.timedelta(days=364)


def csv_file(rows: list[str]) -> bytes:
    """A Wilma export: semicolons, Windows-1252, CRLF, decimal comma."""
    return "".join(f"{line}\r\n" for line in [HEADER, *rows]).encode("cp1252")


def fi(day: datetime.date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


@pytest.fixture
def import_world(live_server, espoo, settings, tmp_path):
    """School A with group 7A (pupils A1 and A2), school B; the national absence categories; a
    published policy made from the LAPE preset (30/50/70/100 h). Users with TOTP: the principal of
    school A, the class teacher of 7A and a municipal administrator (the policy pages are theirs)."""
    import importlib

    from allauth.account.models import EmailAddress
    from django.apps import apps as django_apps
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from absences.services.policies import create_policy_from_preset
    from tests.browser.test_audit_browser import new_secret
    from tests.factories import (
        SchoolFactory,
        SchoolYearFactory,
        StaffRoleFactory,
        StudentFactory,
        TeachingGroupFactory,
        UserFactory,
        give_totp,
    )
    from welfare.models import Role

    settings.MEDIA_ROOT = tmp_path / "media"  # the live server runs in this process: uploads land here
    today = timezone.localdate()
    start, end = school_year_around(today)
    with schema_context(espoo.schema_name):
        # The seed of migration 0003 (with the aliases "sairaus", "lupa", ...): browser tests empty
        # the tenant tables after each test, so the seed may be gone.
        importlib.import_module("absences.migrations.0003_national_categories").create(django_apps, None)
        year = SchoolYearFactory(name=f"{start.year}–{start.year + 1}", start_date=start, end_date=end)
        school_a = SchoolFactory(external_id="A", name="Kaivomäen koulu")
        school_b = SchoolFactory(external_id="B", name="Lintumetsän koulu")
        group = TeachingGroupFactory(school=school_a, school_year=year, name="7A", grade=7)
        a1 = StudentFactory(external_id="A1", group=group, first_name="Ilmatar", last_name="Qvarnström")
        a2 = StudentFactory(external_id="A2", group=group, first_name="Bea", last_name="Berg")
        StudentFactory(external_id="B1", group=TeachingGroupFactory(school=school_b, school_year=year))
        create_policy_from_preset("lape", publish=True)
        teacher = UserFactory(email="opettaja.import@example.fi", first_name="Olli", last_name="Opettaja")
        EmailAddress.objects.update_or_create(user=teacher, email=teacher.email,
                                              defaults={"verified": True, "primary": True})
        StaffRoleFactory(user=teacher, role=Role.CLASS_TEACHER, school=school_a, groups=[group])
    teacher.totp_secret = new_secret()
    give_totp(teacher, teacher.totp_secret)
    principal = make_user(espoo, "rehtori.import@example.fi", Role.PRINCIPAL, school=school_a,
                          first_name="Riikka", last_name="Rehtori")
    admin = make_user(espoo, "paakayttaja.import@example.fi", Role.MUNICIPAL_ADMIN,
                      first_name="Paula", last_name="Pääkäyttäjä")
    return {"espoo": espoo, "today": today, "A1": a1, "A2": a2, "principal": principal, "teacher": teacher,
            "admin": admin}


def files(today: datetime.date) -> tuple[bytes, bytes, dict]:
    """The file with two errors (line 8: unknown pupil X9; line 9: 20 hours) and its fix."""
    days = school_days_before(today, ABSENCE_DAYS)
    a1_rows = [f"A1;{fi(day)};6;sairaus" for day in days]
    broken = csv_file([*a1_rows, f"X9;{fi(days[0])};2;sairaus", f"A2;{fi(days[1])};20;sairaus"])
    fixed = csv_file([*a1_rows, f"A2;{fi(days[0])};2;sairaus", f"A2;{fi(days[1])};2,5;sairaus"])
    return broken, fixed, {"rows": len(a1_rows) + 2, "unknown_line": len(a1_rows) + 2,
                           "hours_line": len(a1_rows) + 3}


def upload(page, name: str, content: bytes) -> None:
    """On the upload page: choose the file and send it (to the column mapping step)."""
    page.get_by_label(re.compile(r"^File:?$")).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}])
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and check the columns").click()


def confirm_columns(page) -> None:
    """On the mapping page: the columns were recognised from the Finnish headers; import."""
    with page.expect_navigation():
        page.get_by_role("button", name="Check and import").click()


def table_rows(page, selector: str) -> list[list[str]]:
    return page.locator(selector).evaluate(
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))")


def stored_records(espoo) -> list[tuple]:
    from django_tenants.utils import schema_context

    from absences.models import AbsenceRecord

    with schema_context(espoo.schema_name):
        return list(AbsenceRecord.objects.order_by("student__external_id", "date")
                    .values_list("student__external_id", "date", "hours"))


def test_principal_fixes_the_file_and_the_pupil_reaches_the_class_teachers_worklist(
        context_factory, base_url, import_world, csp_errors):
    from django_tenants.utils import schema_context

    from absences.models import AbsenceImport, Escalation

    world, espoo = import_world, import_world["espoo"]
    broken, fixed, where = files(world["today"])
    page = context_factory(locale=ENGLISH).new_page()
    sign_in_with_totp(page, base_url, world["principal"])

    # Upload page.
    shell = ShellPage(page, base_url).open(UPLOAD)
    assert shell.response.status == 200
    assert shell.heading == "Import absences"
    assert_accessible(page, "absence import upload")

    # A file with two errors: the columns are recognised, nothing is imported yet.
    upload(page, "poissaolot.csv", broken)
    assert re.search(r"/absences/imports/\d+/columns/$", page.url), page.url
    assert shell.heading == "Check the columns"
    preview = table_rows(page, "table.import-preview")
    assert preview[0][0] == "A1" and len(preview) == where["rows"]
    assert_accessible(page, "absence import column mapping")
    confirm_columns(page)

    # The error report: line, column, value and the problem of each error; nothing imported.
    assert re.search(r"/absences/imports/\d+/$", page.url), page.url
    assert page.locator("#result-heading").inner_text().strip() == "Nothing was imported"
    assert page.get_by_role("alert").inner_text().strip() == (
        "The file has 2 errors. Correct them and upload the file again.")
    assert page.locator("table.import-errors caption").inner_text().strip() == "Errors in the file"
    errors = table_rows(page, "table.import-errors")
    assert [row[:3] for row in errors] == [
        [str(where["unknown_line"]), "Oppilasnumero", "X9"],
        [str(where["hours_line"]), "Tunnit", "20"],
    ], errors
    assert errors[0][3].startswith('Unknown student id "X9"')
    assert errors[1][3] == "20 hours is more than a school day (12 hours)."
    assert stored_records(espoo) == []
    assert_accessible(page, "absence import error report")

    # Fix the file and upload it again.
    with page.expect_navigation():
        page.get_by_role("link", name="Import another file").click()
    assert page.url == base_url + UPLOAD
    upload(page, "poissaolot-korjattu.csv", fixed)
    confirm_columns(page)
    assert page.locator("#result-heading").inner_text().strip() == "Imported"
    status = page.locator(".import-result [role=status]").inner_text()
    assert f"{where['rows']} rows were read." in status
    summary = page.locator(".import-result dl.summary").evaluate(
        "dl => Object.fromEntries([...dl.querySelectorAll('div')].map("
        "d => [d.querySelector('dt').innerText.trim(), d.querySelector('dd').innerText.trim()]))")
    assert summary == {"Added": str(where["rows"]), "Replaced": "0", "Removed": "0", "Unchanged": "0"}
    assert_accessible(page, "absence import result")
    records = stored_records(espoo)
    assert len(records) == where["rows"]
    assert sum(hours for pupil, _day, hours in records if pupil == "A1") == 6 * ABSENCE_DAYS

    # The history: the failed import and the successful one, newest first.
    with page.expect_navigation():
        page.get_by_role("link", name="All imports").click()
    assert shell.heading == "Absence imports"
    history = table_rows(page, "table.import-history")
    assert [(row[2], row[3]) for row in history] == [("poissaolot-korjattu.csv", "Imported"),
                                                      ("poissaolot.csv", "Rejected")], history
    assert history[1][-1] == "2"  # the errors column
    assert_accessible(page, "absence import history")

    # The import evaluated the pupils it touched: run_import() registers
    # absences.services.evaluation.evaluate_students with transaction.on_commit (not Celery), and
    # the small file ran inside the upload request, so the step was raised before the page came back.
    with schema_context(espoo.schema_name):
        assert AbsenceImport.objects.filter(status=AbsenceImport.Status.DONE).count() == 1
        raised = list(Escalation.objects.values_list("case__student__external_id", "kind", "level"))
    assert raised == [("A1", Escalation.Kind.THRESHOLD, 1)], raised

    # The class teacher of 7A, in a browser of their own: A1 is in "my pupils needing action".
    teacher_page = context_factory(locale=ENGLISH).new_page()
    sign_in_with_totp(teacher_page, base_url, world["teacher"])
    worklist = ShellPage(teacher_page, base_url).open("/absences/")
    assert worklist.response.status == 200
    assert worklist.heading == "My pupils needing action"
    rows = table_rows(teacher_page, "table.absence-cases")
    assert len(rows) == 1, rows
    pupil, group, step, hours, _react_by, state = rows[0]
    assert (pupil, group, step, hours) == ("Qvarnström Ilmatar", "7A", "1. Huoli herää", "36")
    assert "Waiting for an action" in state
    assert "Berg" not in teacher_page.locator("main").inner_text()  # A2's 4.5 h reach no step
    assert_accessible(teacher_page, "absence worklist after the import")
    assert not csp_errors, csp_errors


def test_policy_list_is_accessible(new_page, base_url, import_world, csp_errors):
    page = new_page(locale=ENGLISH)
    sign_in_with_totp(page, base_url, import_world["admin"])
    shell = ShellPage(page, base_url).open("/absences/policies/")
    assert shell.response.status == 200
    assert shell.heading == "Absence threshold policies"
    assert "version 1." in page.locator("main").inner_text()
    assert_accessible(page, "absence threshold policy list")
    assert not csp_errors, csp_errors


def test_upload_and_error_report_fit_a_phone(new_page, base_url, import_world, csp_errors):
    broken, _fixed, where = files(import_world["today"])
    page = new_page(locale=ENGLISH, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    sign_in_with_totp(page, base_url, import_world["principal"])
    shell = ShellPage(page, base_url).open(UPLOAD)
    assert shell.response.status == 200
    assert shell.horizontal_overflow() <= 0, "the upload page scrolls sideways at 360px"
    upload(page, "poissaolot.csv", broken)
    confirm_columns(page)
    assert page.locator("#result-heading").inner_text().strip() == "Nothing was imported"
    assert len(table_rows(page, "table.import-errors")) == 2
    assert shell.horizontal_overflow() <= 0, "the error report scrolls sideways at 360px"
    assert_accessible(page, "absence import error report on a phone")
    assert not csp_errors, csp_errors
