"""The default rings (categories) of the annual clock, created by migration 0002 in every
municipality; a municipality may rename, recolour, reorder, add or retire them afterwards
(domain.md §3: three to five clocks in practice)."""

from __future__ import annotations

# (code, Finnish, Swedish, English, colour: dark enough for 3:1 against the wheel's pale bands)
DEFAULT_RINGS = [
    ("communal", "Yhteisöllinen hyvinvointi", "Gemensam välfärd", "Communal welfare", "#1f5f8b"),
    ("safety", "Turvallisuus", "Trygghet", "Safety", "#a3321f"),
    ("guidance", "Ohjaus ja tuki", "Handledning och stöd", "Guidance and support", "#2e6b34"),
    ("home_school", "Kodin ja koulun yhteistyö", "Samarbete mellan hem och skola", "Home–school cooperation",
     "#6b3f8f"),
    ("participation", "Oppilaiden osallisuus", "Elevernas delaktighet", "Pupil participation", "#8a5a00"),
]


def ensure_default_rings(ring_model=None) -> None:
    """Create the default rings that are missing (by code). Idempotent."""
    if ring_model is None:
        from annualclock.models import Ring as ring_model
    for position, (code, fi, sv, en, color) in enumerate(DEFAULT_RINGS):
        ring_model.objects.get_or_create(code=code, defaults={"name_fi": fi, "name_sv": sv, "name_en": en,
                                                              "color": color, "position": position})
