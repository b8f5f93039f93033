"""The coordinator's settings page: reminder days and the wheel's rings, as the coordinator uses it.

The ring form is posted back as the browser would: the inputs are read from the page itself
(management form, hidden ids, every row), then the few the user changes are changed.
"""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from annualclock import selectors
from annualclock.defaults import DEFAULT_RINGS
from annualclock.forms import contrast_with_white
from annualclock.models import ClockSettings, Ring
from annualclock.reminders import send_reminders
from annualclock.services import ring_code
from tests.annualclock.factories import ActivityFactory, ring
from tests.conftest import host
from tests.factories import StaffRoleFactory, UserFactory, sign_in
from welfare.models import AuditAction, AuditEvent, Role

pytestmark = pytest.mark.django_db

URL = "/annual-clock/settings/"
EN = {"accept-language": "en"}


class _Forms(HTMLParser):
    """The page's forms as the browser would post them: {form name: {input name: value}}."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post":
            self._current = {}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self._current[attrs["name"]] = attrs.get("value") or ("on" if attrs.get("type") == "checkbox" else "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def page_form(html: str, name: str) -> dict[str, str]:
    parser = _Forms()
    parser.feed(html)
    (form,) = [form for form in parser.forms if form.get("form") == name]
    return form


def row_prefix(data: dict[str, str], pk: int) -> str:
    """The formset prefix ("rings-3") of the row of ring ``pk``."""
    (key,) = [key for key, value in data.items() if key.endswith("-id") and value == str(pk)]
    return key.removesuffix("-id")


def blank_prefix(data: dict[str, str]) -> str:
    return f"rings-{int(data['rings-TOTAL_FORMS']) - 1}"


@pytest.fixture
def coordinator(world, client_for):
    return client_for(world.coordinator)


@pytest.fixture
def rings(espoo):
    with schema_context(espoo.schema_name):
        return {code: ring(code) for code in ("communal", "safety", "guidance", "home_school", "participation")}


def rings_form(client) -> dict[str, str]:
    response = client.get(URL, headers=EN)
    assert response.status_code == 200
    return page_form(response.content.decode(), "rings")


def audit_events(espoo) -> list[AuditEvent]:
    with schema_context(espoo.schema_name):
        return list(AuditEvent.objects.filter(action=AuditAction.UPDATE, detail__view="annual_clock_settings"))


# --- Reminder days ------------------------------------------------------------------------------

def test_coordinator_changes_the_reminder_days_and_the_reminders_follow(espoo, world, coordinator):
    page = coordinator.get(URL, headers=EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Annual clock settings</h1>" in html
    assert "no-store" in page.headers["Cache-Control"]
    data = page_form(html, "reminders")
    assert data["reminders-reminder_days"] == "7"

    data["reminders-reminder_days"] = "14"
    response = coordinator.post(URL, data, headers=EN, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "The reminder days were saved." in response.content.decode()
    assert 'value="14"' in response.content.decode()

    (event,) = audit_events(espoo)
    assert event.user_id == world.coordinator.pk
    assert event.object_type == "annualclock.clocksettings"
    assert event.detail["reminder_days"] == {"from": 7, "to": 14}
    with schema_context(espoo.schema_name):
        assert ClockSettings.current().reminder_days == 14
        # The nightly reminders now remind 14 days ahead (7 would not have reached this one yet).
        ActivityFactory(clock=world.clock, owner_ids=[world.principal.pk], start_date=datetime.date(2026, 10, 20),
                        end_date=datetime.date(2026, 10, 20))
        assert send_reminders(datetime.date(2026, 10, 6))["reminders"] == 1


@pytest.mark.parametrize("days", ["0", "61", "", "seven"])
def test_reminder_days_outside_1_to_60_are_refused(espoo, world, coordinator, days):
    response = coordinator.post(URL, {"form": "reminders", "reminders-reminder_days": days}, headers=EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert 'aria-invalid="true"' in html
    with schema_context(espoo.schema_name):
        assert ClockSettings.current().reminder_days == 7
    assert audit_events(espoo) == []


def test_saving_the_reminders_does_not_validate_the_rings(espoo, world, coordinator, rings):
    """Each form is its own POST: the rings' fields are not even sent with the reminder days."""
    response = coordinator.post(URL, {"form": "reminders", "reminders-reminder_days": "10"})
    assert response.status_code == 302
    with schema_context(espoo.schema_name):
        assert ClockSettings.current().reminder_days == 10


# --- Rings --------------------------------------------------------------------------------------

def test_coordinator_renames_and_reorders_rings(espoo, world, coordinator, rings):
    data = rings_form(coordinator)
    safety, communal = row_prefix(data, rings["safety"].pk), row_prefix(data, rings["communal"].pk)
    assert data[f"{safety}-name_fi"] == "Turvallisuus"
    data[f"{safety}-name_fi"] = "Turvallisuus ja hyvinvointi"
    data[f"{safety}-name_sv"] = "Trygghet och välmående"
    data[f"{safety}-position"], data[f"{communal}-position"] = "0", "1"
    response = coordinator.post(URL, data, headers=EN, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "The rings were saved." in response.content.decode()

    with schema_context(espoo.schema_name):
        saved = Ring.objects.get(pk=rings["safety"].pk)
        assert (saved.name_fi, saved.name_sv, saved.name_en) == ("Turvallisuus ja hyvinvointi",
                                                                 "Trygghet och välmående", "Safety")
        assert saved.code == "safety"  # the code stays: it is not a name
        assert [r.code for r in selectors.rings()][:2] == ["safety", "communal"]
        assert Ring.objects.count() == 5  # the untouched blank row added nothing
    (event,) = audit_events(espoo)
    assert event.object_type == "annualclock.clocksettings"
    assert event.detail["form"] == "rings" and event.detail["created"] == []
    assert set(event.detail["changed"]) == {"safety", "communal"}
    # The wheel's legend uses the new names.
    clock_page = coordinator.get(f"/annual-clock/clocks/{world.clock.pk}/").content.decode()
    assert "Turvallisuus ja hyvinvointi" in clock_page


def test_coordinator_adds_a_ring_with_the_blank_row(espoo, world, client_for, coordinator, rings):
    data = rings_form(coordinator)
    blank = blank_prefix(data)
    assert f"{blank}-id" in data and data[f"{blank}-id"] == ""
    data[f"{blank}-name_fi"] = "Hyvinvointikysely ja seuranta"
    data[f"{blank}-name_sv"] = "Välmåendeenkät och uppföljning"
    data[f"{blank}-color"] = "#205060"
    data[f"{blank}-position"] = "9"
    assert coordinator.post(URL, data).status_code == 302

    with schema_context(espoo.schema_name):
        added = Ring.objects.get(name_fi="Hyvinvointikysely ja seuranta")
        assert added.code == "hyvinvointikysely-ja-seuranta"
        assert (added.color, added.position, added.active) == ("#205060", 9, True)
        assert selectors.rings()[-1] == added
    (event,) = audit_events(espoo)
    assert event.detail["created"] == ["hyvinvointikysely-ja-seuranta"] and event.detail["changed"] == []
    # The welfare group can now choose it for a new activity.
    form = client_for(world.principal).get(f"/annual-clock/clocks/{world.clock.pk}/activities/new/")
    assert f'<option value="{added.pk}">Hyvinvointikysely ja seuranta</option>' in form.content.decode()

    # The same Finnish name again gets a code of its own.
    data = rings_form(coordinator)
    data[f"{blank_prefix(data)}-name_fi"] = "Hyvinvointikysely ja seuranta"
    assert coordinator.post(URL, data).status_code == 302
    with schema_context(espoo.schema_name):
        assert set(Ring.objects.filter(name_fi="Hyvinvointikysely ja seuranta").values_list("code", flat=True)) == {
            "hyvinvointikysely-ja-seuranta", "hyvinvointikysely-ja-seuranta-2"}


def test_blank_row_without_a_finnish_name_is_ignored(espoo, world, coordinator, rings):
    data = rings_form(coordinator)
    data[f"{blank_prefix(data)}-name_sv"] = "Bara på svenska"
    data[f"{blank_prefix(data)}-color"] = "#000000"
    response = coordinator.post(URL, data, headers=EN, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    with schema_context(espoo.schema_name):
        assert Ring.objects.count() == 5


def test_retired_ring_is_not_offered_for_new_activities(espoo, world, client_for, coordinator, rings):
    data = rings_form(coordinator)
    data.pop(f"{row_prefix(data, rings['participation'].pk)}-active")
    assert coordinator.post(URL, data).status_code == 302
    with schema_context(espoo.schema_name):
        assert not Ring.objects.get(code="participation").active
        assert "participation" not in [r.code for r in selectors.rings()]
    form = client_for(world.principal).get(f"/annual-clock/clocks/{world.clock.pk}/activities/new/").content.decode()
    assert "Oppilaiden osallisuus" not in form and "Turvallisuus" in form
    page = coordinator.get(URL).content.decode()
    assert "Oppilaiden osallisuus" in page  # still listed here, so it can be taken back into use


def test_too_light_colour_is_refused_naming_the_ring_and_nothing_is_saved(espoo, world, coordinator, rings):
    data = rings_form(coordinator)
    safety, communal = row_prefix(data, rings["safety"].pk), row_prefix(data, rings["communal"].pk)
    data[f"{communal}-name_fi"] = "Uusi nimi"
    data[f"{safety}-color"] = "#ffff00"
    response = coordinator.post(URL, data, headers=EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert "The colour #ffff00 of Safety is too light" in html
    assert "contrast of only 1.07:1, and at least 4.5:1 is needed" in html
    with schema_context(espoo.schema_name):
        assert Ring.objects.get(code="communal").name_fi == "Yhteisöllinen hyvinvointi"
        assert Ring.objects.get(code="safety").color == "#a3321f"
    assert audit_events(espoo) == []


def test_the_page_speaks_finnish_and_swedish(espoo, world, coordinator, rings):
    data = rings_form(coordinator)
    data[f"{row_prefix(data, rings['safety'].pk)}-color"] = "#ffff00"
    finnish = coordinator.post(URL, data).content.decode()
    assert "<h1>Vuosikellon asetukset</h1>" in finnish
    assert "<legend><h3>Kehä: Turvallisuus</h3></legend>" in finnish
    assert "Kehän Turvallisuus väri #ffff00 on liian vaalea" in finnish and "vain 1,07:1" in finnish
    swedish = coordinator.get(URL, headers={"accept-language": "sv"}).content.decode()
    assert "<legend><h3>Ring: Trygghet</h3></legend>" in swedish and "Årsklockans ringar" in swedish


@pytest.mark.parametrize(("color", "error"), [
    ("red", "Give the colour of Guidance and support as #rrggbb"),
    ("#12345", "Give the colour of Guidance and support as #rrggbb"),
    ("#12345g", "Give the colour of Guidance and support as #rrggbb"),
    ("", "Guidance and support – Colour: This field is required."),
])
def test_colour_must_be_rrggbb(espoo, world, coordinator, rings, color, error):
    data = rings_form(coordinator)
    data[f"{row_prefix(data, rings['guidance'].pk)}-color"] = color
    response = coordinator.post(URL, data, headers=EN)
    assert response.status_code == 400
    assert error in response.content.decode()
    with schema_context(espoo.schema_name):
        assert Ring.objects.get(code="guidance").color == "#2e6b34"


def test_every_existing_ring_needs_a_finnish_name(espoo, world, coordinator, rings):
    data = rings_form(coordinator)
    data[f"{row_prefix(data, rings['home_school'].pk)}-name_fi"] = "  "
    response = coordinator.post(URL, data, headers=EN)
    assert response.status_code == 400
    assert "Home–school cooperation – Name in Finnish: This field is required." in response.content.decode()
    with schema_context(espoo.schema_name):
        assert Ring.objects.get(code="home_school").name_fi == "Kodin ja koulun yhteistyö"


def test_contrast_follows_wcag():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    assert round(contrast_with_white("#767676"), 2) == 4.54  # the lightest grey that passes AA
    assert contrast_with_white("#777777") < 4.5
    assert all(contrast_with_white(color) >= 4.5 for *_names, color in DEFAULT_RINGS)


def test_ring_codes_are_slugs_of_the_finnish_name_made_unique():
    assert ring_code("Kodin ja koulun yhteistyö", taken=set()) == "kodin-ja-koulun-yhteistyo"
    assert ring_code("Turvallisuus", taken={"turvallisuus", "turvallisuus-2"}) == "turvallisuus-3"
    assert ring_code("???", taken=set()) == "ring"
    assert len(ring_code("x" * 100, taken={"x" * 34})) <= 40


# --- Who may ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["principal", "teacher", "kuraattori", "admin"])
def test_only_the_coordinator_may_open_or_save_the_settings(espoo, world, client_for, rings, who):
    client = client_for(getattr(world, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"form": "reminders", "reminders-reminder_days": "30"}).status_code == 403
    with schema_context(espoo.schema_name):
        assert ClockSettings.current().reminder_days == 7
    assert 'href="/annual-clock/settings/"' not in client.get("/annual-clock/").content.decode()


def test_the_coordinator_finds_the_page_from_the_clock_menu(world, coordinator):
    assert 'href="/annual-clock/settings/"' in coordinator.get("/annual-clock/").content.decode()


def test_unknown_form_is_a_bad_request(world, coordinator):
    assert coordinator.post(URL, {"form": "other"}).status_code == 400


def test_settings_stay_in_their_municipality(espoo, vantaa, world, coordinator, rings):
    data = rings_form(coordinator)
    data[f"{row_prefix(data, rings['safety'].pk)}-name_fi"] = "Espoon turvallisuus"
    assert coordinator.post(URL, data).status_code == 302
    assert coordinator.post(URL, {"form": "reminders", "reminders-reminder_days": "21"}).status_code == 302

    with schema_context(vantaa.schema_name):
        assert ClockSettings.current().reminder_days == 7
        assert Ring.objects.get(code="safety").name_fi == "Turvallisuus"
        vantaa_coordinator = UserFactory(first_name="Vantaan", last_name="Koordinaattori")
        StaffRoleFactory(user=vantaa_coordinator, role=Role.MUNICIPAL_COORDINATOR, school=None)
    vantaa_client = sign_in(Client(headers={"host": host(vantaa)}), vantaa_coordinator)
    page = vantaa_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Espoon turvallisuus" not in html and 'value="Turvallisuus"' in html
    assert 'value="21"' not in html
    # Espoo's coordinator has no role in Vantaa.
    espoo_in_vantaa = sign_in(Client(headers={"host": host(vantaa)}), world.coordinator)
    assert espoo_in_vantaa.get(URL).status_code == 403
    assert audit_events(vantaa) == []
