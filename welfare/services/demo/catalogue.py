"""What the demo municipalities contain: their schools, areas and language mix.

Espoo and Vantaa are small and hand-written (real area names, school names of the kind each city
uses). Helsinki, for the ``helsinki`` scale, is generated: 150 schools and exactly 50,000
students (domain.md §6: the largest tenant has about 150 schools and 50k pupils).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from welfare.models import SchoolType


@dataclass(frozen=True)
class SchoolSpec:
    """One school to create. ``pupils`` fixes the head count (large scale); otherwise 15–25 per group."""

    name: str
    school_type: str
    language: str
    area: str
    grade_min: int = 1
    grade_max: int = 9
    double_grades: tuple[int, ...] = ()  # grades with two parallel groups (7A, 7B) in small scale
    programmes: tuple[str, ...] = ()  # vocational study programmes, used in group names
    pupils: int | None = None

    @property
    def grades(self) -> range:
        return range(self.grade_min, self.grade_max + 1)


@dataclass(frozen=True)
class MunicipalitySpec:
    slug: str
    name_fi: str
    name_sv: str
    county: str
    code_base: int  # school ids are code_base + n, five digits like Finnish institution codes
    schools: tuple[SchoolSpec, ...]
    languages: tuple[str, ...] = ("fi", "sv")
    finnish_share: float = 0.80  # of pupils in Finnish-language schools
    swedish_share: float = 0.06
    guardians_per_student: tuple[int, ...] = (1, 2)
    seed: int = 0


BASIC = SchoolType.BASIC
UPPER = SchoolType.UPPER_SECONDARY
VOCATIONAL = SchoolType.VOCATIONAL
VOCATIONAL_PROGRAMMES = ("SOTE", "AUTO", "SÄHKÖ", "LOG", "RAK", "MATKA", "LIKO", "KOKKI")

ESPOO = MunicipalitySpec(
    slug="espoo",
    name_fi="Espoo",
    name_sv="Esbo",
    county="Länsi-Uudenmaan hyvinvointialue",
    code_base=3100,
    seed=2026_049,
    schools=(
        SchoolSpec("Tapiolan koulu", BASIC, "fi", "Tapiola", double_grades=(7,)),
        SchoolSpec("Kilonpuiston koulu", BASIC, "fi", "Leppävaara", double_grades=(7,)),
        SchoolSpec("Saunalahden koulu", BASIC, "fi", "Espoonlahti", grade_max=6),
        SchoolSpec("Mattlidens skola", BASIC, "sv", "Matinkylä"),
        # A bilingual campus: two schools, Finnish and Swedish, in one building in Espoon keskus.
        SchoolSpec("Kirkkojärven koulu", BASIC, "fi", "Espoon keskus", double_grades=(7,)),
        SchoolSpec("Lagstads skola", BASIC, "sv", "Espoon keskus", grade_max=6),
        SchoolSpec("Tapiolan lukio", UPPER, "fi", "Tapiola", grade_max=3),
        SchoolSpec("Ammattiopisto Omnia, Leppävaara", VOCATIONAL, "fi", "Leppävaara", grade_max=3,
                   programmes=("SOTE", "AUTO")),
    ),
)

VANTAA = MunicipalitySpec(
    slug="vantaa",
    name_fi="Vantaa",
    name_sv="Vanda",
    county="Vantaan ja Keravan hyvinvointialue",
    code_base=3200,
    seed=2026_092,
    schools=(
        SchoolSpec("Jokiniemen koulu", BASIC, "fi", "Tikkurila", double_grades=(7,)),
        SchoolSpec("Kilterin koulu", BASIC, "fi", "Myyrmäki", double_grades=(7,)),
        SchoolSpec("Mikkolan koulu", BASIC, "fi", "Korso"),
        SchoolSpec("Hakunilan koulu", BASIC, "fi", "Hakunila", grade_max=6),
        SchoolSpec("Dickursby skola", BASIC, "sv", "Tikkurila", grade_max=6),
        # A bilingual campus in Koivukylä (Björkby).
        SchoolSpec("Koivukylän koulu", BASIC, "fi", "Koivukylä", double_grades=(7,)),
        SchoolSpec("Björkby skola", BASIC, "sv", "Koivukylä", grade_max=6),
        SchoolSpec("Tikkurilan lukio", UPPER, "fi", "Tikkurila", grade_max=3),
        SchoolSpec("Varia – Vantaan ammattiopisto, Myyrmäki", VOCATIONAL, "fi", "Myyrmäki", grade_max=3,
                   programmes=("LOG", "SÄHKÖ")),
    ),
)

# (area, genitive, Swedish name) for generated Helsinki school names.
HELSINKI_AREAS = (
    ("Kallio", "Kallion", "Berghäll"), ("Vuosaari", "Vuosaaren", "Nordsjö"), ("Kontula", "Kontulan", "Gårdsbacka"),
    ("Malmi", "Malmin", "Malm"), ("Herttoniemi", "Herttoniemen", "Hertonäs"),
    ("Munkkiniemi", "Munkkiniemen", "Munksnäs"), ("Pasila", "Pasilan", "Böle"),
    ("Kannelmäki", "Kannelmäen", "Gamlas"), ("Itäkeskus", "Itäkeskuksen", "Östra centrum"),
    ("Lauttasaari", "Lauttasaaren", "Drumsö"), ("Töölö", "Töölön", "Tölö"), ("Käpylä", "Käpylän", "Kottby"),
    ("Oulunkylä", "Oulunkylän", "Åggelby"), ("Pihlajamäki", "Pihlajamäen", "Rönnbacka"),
    ("Mellunmäki", "Mellunmäen", "Mellungsbacka"), ("Myllypuro", "Myllypuron", "Kvarnbäcken"),
    ("Maunula", "Maunulan", "Månsas"), ("Pakila", "Pakilan", "Baggböle"), ("Tapanila", "Tapanilan", "Mosabacka"),
    ("Puistola", "Puistolan", "Parkstad"), ("Haaga", "Haagan", "Haga"),
    ("Pitäjänmäki", "Pitäjänmäen", "Sockenbacka"), ("Laajasalo", "Laajasalon", "Degerö"),
    ("Kulosaari", "Kulosaaren", "Brändö"), ("Viikki", "Viikin", "Vik"), ("Jakomäki", "Jakomäen", "Jakobacka"),
    ("Latokartano", "Latokartanon", "Ladugården"), ("Arabianranta", "Arabianrannan", "Arabiastranden"),
    ("Kamppi", "Kampin", "Kampen"), ("Vallila", "Vallilan", "Vallgård"),
    ("Kruununhaka", "Kruununhaan", "Kronohagen"), ("Lassila", "Lassilan", "Lassas"),
    ("Paloheinä", "Paloheinän", "Svedängen"), ("Kivikko", "Kivikon", "Stensböle"),
    ("Vartiokylä", "Vartiokylän", "Botby"), ("Roihuvuori", "Roihuvuoren", "Kasberget"),
    ("Konala", "Konalan", "Kånala"), ("Ruoholahti", "Ruoholahden", "Gräsviken"),
    ("Jätkäsaari", "Jätkäsaaren", "Busholmen"), ("Kalasatama", "Kalasataman", "Fiskehamnen"),
)
HELSINKI_SCHOOLS = 150
HELSINKI_STUDENTS = 50_000


def helsinki(seed: int = 2026_091) -> MunicipalitySpec:
    """Helsinki at full size: 120 Finnish and 12 Swedish basic schools, 12 upper secondary, 6 vocational."""
    rng = random.Random(seed)
    # (name, type, language, area, grade_min, grade_max)
    rows: list[tuple[str, str, str, str, int, int]] = []
    fi_variants = (("koulu", 1, 9), ("ala-asteen koulu", 1, 6), ("yläasteen koulu", 7, 9))
    for variant, low, high in fi_variants:
        for area, genitive, _sv in HELSINKI_AREAS:
            if len(rows) < 120:
                rows.append((f"{genitive} {variant}", BASIC, "fi", area, low, high))
    # A bilingual campus: "Fiskehamnens skola" shares a building with "Kalasataman koulu".
    rows.append(("Fiskehamnens skola", BASIC, "sv", "Kalasatama", 1, 9))
    for index, (area, _genitive, swedish) in enumerate(HELSINKI_AREAS[:11]):
        if index % 2:
            rows.append((f"{swedish} lågstadieskola", BASIC, "sv", area, 1, 6))
        else:
            rows.append((f"{swedish} skola", BASIC, "sv", area, 1, 9))
    for area, genitive, _sv in HELSINKI_AREAS[11:21]:
        rows.append((f"{genitive} lukio", UPPER, "fi", area, 1, 3))
    rows.append(("Gymnasiet Lärkan", UPPER, "sv", "Munkkiniemi", 1, 3))
    rows.append(("Tölö gymnasium", UPPER, "sv", "Töölö", 1, 3))
    for area in ("Vallila", "Malmi", "Myllypuro", "Ruoholahti", "Kannelmäki", "Herttoniemi"):
        rows.append((f"Stadin ammatti- ja aikuisopisto, {area}", VOCATIONAL, "fi", area, 1, 3))
    assert len(rows) == HELSINKI_SCHOOLS, len(rows)

    # Head counts: proportional to the grades a school teaches, varied ±30 %; upper secondary
    # and vocational institutions are larger per year. The last school takes the rounding remainder.
    weights = [
        (high - low + 1) * rng.uniform(0.7, 1.3) * (2.5 if kind != BASIC else 1.0)
        for _name, kind, _lang, _area, low, high in rows
    ]
    total = sum(weights)
    pupils = [int(HELSINKI_STUDENTS * w / total) for w in weights]
    pupils[-1] += HELSINKI_STUDENTS - sum(pupils)
    schools = tuple(
        SchoolSpec(name, kind, lang, area, low, high, pupils=count,
                   programmes=VOCATIONAL_PROGRAMMES if kind == VOCATIONAL else ())
        for (name, kind, lang, area, low, high), count in zip(rows, pupils, strict=True)
    )
    return MunicipalitySpec(
        slug="helsinki",
        name_fi="Helsinki",
        name_sv="Helsingfors",
        county="Helsingin kaupunki",  # Helsinki organises its own health and social services
        code_base=10000,
        seed=seed,
        schools=schools,
        finnish_share=0.75,  # about one in four school-age children speaks another language (domain.md §5)
        swedish_share=0.06,
        guardians_per_student=(1,),  # one guardian each keeps the 50k seed quick
    )
