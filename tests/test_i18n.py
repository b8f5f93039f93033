"""The UI in Finnish, Swedish and English: language choice, translated shell, complete catalogues."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from tests.browser.support import LANGUAGES, compile_messages_if_stale, po_paths
from tests.conftest import host
from tests.factories import StaffRoleFactory, UserFactory
from welfare.models import Role

NAV = {
    "fi": ["Vuosikello", "Ryhmäkeskustelut", "Poissaolot", "Vanhempainillat", "Koontinäkymä"],
    "sv": ["Årsklocka", "Gruppsamtal", "Frånvaro", "Föräldramöten", "Översikt"],
    "en": ["Annual clock", "Group sessions", "Absences", "Parent evenings", "Dashboard"],
}
SIGN_IN = {"fi": "Kirjaudu sisään", "sv": "Logga in", "en": "Sign in"}
NAV_LINK = re.compile(r'<nav class="main-nav".*?</nav>', re.S)


@pytest.fixture(scope="module", autouse=True)
def _catalogues():
    compile_messages_if_stale()


@pytest.fixture
def staff_client(in_espoo):
    user = UserFactory(email="i18n.koordinaattori@example.fi")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    # The coordinator is the one role that needs no second factor (welfare.policy.MFA_REQUIRED_ROLES).
    StaffRoleFactory(user=user, role=Role.MUNICIPAL_COORDINATOR, school=None)
    client = Client(headers={"host": host(in_espoo)})
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def nav_labels(html: str) -> list[str]:
    match = NAV_LINK.search(html)
    assert match, "no main navigation on the page"
    return [label.strip() for label in re.findall(r"<a [^>]*>([^<]+)</a>", match.group(0))]


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z-]+)"', html).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_front_page_follows_accept_language(staff_client, language):
    response = staff_client.get("/", headers={"accept-language": f"{language};q=1.0"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html_lang(html) == language
    assert nav_labels(html) == NAV[language]
    assert f'aria-pressed="true">{ {"fi": "suomi", "sv": "svenska", "en": "English"}[language] }<' in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_language_switcher_sets_the_language(staff_client, language):
    response = staff_client.post("/i18n/setlang/", {"language": language, "next": "/absences/"},
                                 headers={"accept-language": "en"})
    assert response.status_code == 302 and response.headers["location"] == "/absences/"
    html = staff_client.get("/absences/", headers={"accept-language": "en"}).content.decode()
    assert html_lang(html) == language
    assert nav_labels(html) == NAV[language]
    assert '<a href="/absences/" aria-current="page">' + NAV[language][2] in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_visitor_sees_sign_in_in_their_language(espoo_client, language):
    html = espoo_client.get("/", headers={"accept-language": language}).content.decode()
    assert html_lang(html) == language
    assert SIGN_IN[language] in html
    login = espoo_client.get("/accounts/login/", headers={"accept-language": language}).content.decode()
    assert f"<h1>{SIGN_IN[language]}</h1>" in login
    assert f"<title>{SIGN_IN[language]} · Espoo" in login or f"<title>{SIGN_IN[language]} · Esbo" in login


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "heading"), [("fi", "Sivua ei löydy"), ("sv", "Sidan hittades inte"),
                                                   ("en", "Page not found")])
def test_not_found_page_is_translated(espoo_client, language, heading):
    response = espoo_client.get("/no-such-page/", headers={"accept-language": language})
    assert response.status_code == 404
    assert f"<h1>{heading}</h1>" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "heading"), [("fi", "Sivua ei löydy"), ("sv", "Sidan hittades inte"),
                                                   ("en", "Page not found")])
def test_unknown_host_gets_the_404_page_in_the_visitors_language(municipalities, language, heading):
    response = Client(headers={"host": "atlantis.localhost"}).get("/", headers={"accept-language": language})
    html = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{heading}</h1>" in html
    assert html_lang(html) == language
    assert "Traceback" not in html and "technical_404" not in html


def test_server_error_page_renders_without_context_processors(rf):
    from django.utils import translation

    from welfare.views import server_error

    with translation.override("sv"):
        response = server_error(rf.get("/", headers={"host": "espoo.localhost"}))
    html = response.content.decode()
    assert response.status_code == 500
    assert html_lang(html) == "sv" and "<h1>Något gick fel</h1>" in html


# --- the catalogues ---------------------------------------------------------------------

CATALOGUES = [(language, po) for language in LANGUAGES for po in po_paths(language)]


def _catalogue_id(value):
    return value if isinstance(value, str) else str(value.parent.parent.parent.parent.name)


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize(("language", "po"), CATALOGUES, ids=_catalogue_id)
def test_catalogue_compiles(language, po):
    """msgfmt --check: valid syntax, header and plural forms, matching %(name)s placeholders."""
    assert po.exists(), f"{po} is missing: run makemessages (locale/README.md)"
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if language != "en":  # English is the source language: empty msgstr falls back to the msgid
        stats = result.stderr
        assert "untranslated" not in stats and "fuzzy" not in stats, (
            f"{po}: {stats.strip()} — translate the new strings (locale/README.md)")


@pytest.mark.parametrize(("language", "po"), [(lang, po) for lang, po in CATALOGUES if lang != "en"],
                         ids=_catalogue_id)
def test_catalogue_has_no_fuzzy_or_empty_entries(language, po):
    """The same as above without msgfmt, and naming the strings that need work."""
    text = po.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first entry is the header
    fuzzy, empty = [], []
    for entry in entries:
        head = entry.split("msgid ", 1)[1].split("\nmsg", 1)[0] if "msgid " in entry else ""
        msgid = "".join(re.findall(r'"(.*)"', head))
        if re.search(r"^#,.*\bfuzzy\b", entry, re.M):
            fuzzy.append(msgid)
        # An empty msgstr is `msgstr ""` NOT followed by a continuation line ("…") on the next line.
        if re.search(r'^msgstr(\[\d\])? ""\n(?!")', entry + "\n", re.M) and not entry.startswith("#~"):
            empty.append(msgid)
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"
    assert not empty, f"untranslated in {language}: {empty}"
    header = text.split("\n\n")[0]
    assert "#, fuzzy" not in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
    assert f'"Language: {language}\\n"' in header
