"""Invitation placeholders filled per language, and the PDF flyers: the text is in the PDF
(pdftotext) and every font is embedded (pdffonts) for Arabic, Somali, Russian and Persian."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest

from parentevenings import flyers, invitations
from tests.parentevenings.factories import EveningLanguageFactory, ParentEveningFactory

pytestmark = pytest.mark.django_db

TEXTS = {
    "ar": ("أمسية أولياء الأمور", "ندعوكم إلى أمسية أولياء الأمور في {place}"),
    "so": ("Kulanka waalidiinta", "Waxaan idinku martiqaadaynaa kulanka waalidiinta {date}"),
    "ru": ("Родительское собрание", "Приглашаем вас на родительское собрание {date} в {time}"),
    "fa": ("جلسه والدین", "شما را به جلسه والدین در {place} دعوت می‌کنیم"),
}


@pytest.fixture
def evening(in_espoo):
    return ParentEveningFactory(date=datetime.date(2026, 9, 17), venue_name="Kaitaan koulu",
                                venue_address="Iivisniementie 7")


def test_fill_replaces_only_known_placeholders_and_never_formats_input():
    template = "{date} {time} {place} {registration_link} {0} {x.__class__} {unknown} {{date}}"
    filled = invitations.fill(template, {"date": "D", "time": "T", "place": "P", "registration_link": "L"})
    assert filled == "D T P L {0} {x.__class__} {unknown} {D}"


def test_invitation_is_filled_in_each_language(evening):
    filled = {}
    for code in ("fi", "ar", "ru"):
        language = EveningLanguageFactory(evening=evening, code=code, invitation_text="{date} | {time} | {place} | "
                                                                                     "{registration_link}")
        filled[code] = invitations.invitation(language, f"https://x/{code}/")
    assert filled["fi"].startswith("torstai 17. syyskuuta 2026 | 17.00–19.15 | Kaitaan koulu, Iivisniementie 7 | ")
    assert filled["ar"].startswith("الخميس، 17 سبتمبر 2026")
    assert filled["ru"].startswith("четверг, 17 сентября 2026\u202fг. | 17:00–19:15")
    assert filled["ru"].endswith("https://x/ru/")


def _run(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install poppler-utils")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("code", sorted(TEXTS))
def test_flyer_contains_the_text_with_embedded_fonts(evening, code, tmp_path):
    title, text = TEXTS[code]
    language = EveningLanguageFactory(evening=evening, code=code, title=title, invitation_text=text)
    pdf = flyers.flyer_pdf(language, f"https://espoo.example/parent-evenings/e/abc/{code}/")
    path = tmp_path / f"flyer-{code}.pdf"
    path.write_bytes(pdf)
    extracted = _run("pdftotext", "-enc", "UTF-8", str(path), "-")
    normalised = " ".join(extracted.split())
    expected = invitations.fill(text, invitations.values_for(language, registration_link=""))
    for word in [*title.split(), *expected.split()[:4]]:
        assert word in normalised, (word, normalised)
    fonts = _run("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "the PDF has no fonts"
    for line in fonts:
        columns = line.split()
        # name type encoding emb sub uni object ID: "emb" is the 5th column from the end
        assert columns[-5] == "yes", f"font not embedded: {line}"
