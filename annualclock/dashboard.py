"""The annual clock on the dashboards (welfare.dashboard, settings.DASHBOARD_PANELS).

Read from the rollup only (ClockRollup, kept by annualclock.rollups) and the clocks it belongs to:
two queries per page whatever the number of schools. The figures are per school year (an
activity's months may span both terms; a term filter does not split them).

Small numbers (domain.md A5, docs/annualclock.md): counts of *activities* describe the welfare
group's work, not people, and are shown as they are; "people reached" is a count of people and
goes through welfare.aggregates.suppress_table, whose column total is the table's "Total" row.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from annualclock.models import ClockRollup, Ring
from welfare.aggregates import suppress_table
from welfare.charts import bar_chart
from welfare.dashboard import DashboardScope, FigureTable, Panel, share, show_share

NONE = "–"


def panels(scope: DashboardScope) -> list[Panel]:
    """The adoption of templates, activities per school and activities per ring. Callers have
    narrowed ``scope.schools`` to what the user may see (welfare.dashboard.scope_for)."""
    if not scope.schools or scope.school_year is None:
        return []
    rows = {row.school_id: row for row in ClockRollup.objects.filter(
        school_year=scope.school_year, school_id__in=scope.school_ids).select_related(
        "clock__template", "clock__copied_from__school_year")}
    section = _("Annual clock")
    with_clock = [school for school in scope.schools if school.pk in rows]
    return [_adoption_panel(section, scope.schools, rows), _activity_panel(section, with_clock, rows),
            _ring_panel(section, [rows[school.pk] for school in with_clock])]


def _origin(row: ClockRollup | None) -> str:
    if row is None:
        return _("No clock")
    clock = row.clock
    if clock.copied_from_id:
        return _("Copied from %(year)s") % {"year": clock.copied_from.school_year}
    if clock.template_id:
        return _("Template adopted")
    return _("Own clock")


def _adopted(row: ClockRollup | None) -> bool:
    """The school adopted a template this year (a copy's changes are against last year's clock)."""
    return row is not None and row.clock.template_id is not None and row.clock.copied_from_id is None


def _adoption_panel(section: str, schools, rows) -> Panel:
    labels = [school.name for school in schools]
    cells, series = [], {"added": [], "removed": [], "changed": []}
    using, totals = 0, {"added": 0, "removed": 0, "changed": 0}
    for school in schools:
        row = rows.get(school.pk)
        template = row.clock.template if row is not None else None
        using += template is not None
        adopted = _adopted(row)
        for name in totals:
            value = getattr(row, name) if adopted else None
            totals[name] += value or 0
            series[name].append(value)
        cells.append([_origin(row), template.name if template is not None else NONE,
                      *[str(getattr(row, name)) if adopted else NONE for name in totals]])
    cells.append([_("%(count)s of %(total)s use a template") % {"count": using, "total": len(schools)}, "",
                  *[str(value) for value in totals.values()]])
    columns = [_("Clock"), _("Template"), _("Activities added"), _("Template activities removed"),
               _("Activities changed")]
    notes = [_("Changes are counted where the school adopted a template for this school year: activities "
               "it added, template activities it removed and copied activities it changed. A clock copied "
               "from the school's earlier clock keeps that clock's template.")]
    return Panel(
        key="annualclock-adoption", section=section, row_heading=_("School"),
        title=_("Annual clock: adoption of the template"),
        description=_("For each school, how its annual clock for the school year was made (a municipal "
                      "template adopted, copied from its earlier clock, or its own), which template it rests "
                      "on and what the school changed. Total: the schools whose clock rests on a municipal "
                      "template."),
        table=FigureTable(labels + [_("Total")], columns, cells, notes),
        chart=bar_chart(key="annualclock-adoption", title=_("Changes against the template"),
                        description=_("Per school that adopted a template, the activities it added, the "
                                      "template activities it removed and the copied activities it changed."),
                        labels=labels, series=[(_("Added"), series["added"]), (_("Removed"), series["removed"]),
                                               (_("Changed"), series["changed"])])
        if any(value is not None for value in series["added"]) else "",
    )


def _activity_panel(section: str, schools, rows) -> Panel:
    labels = [school.name for school in schools]
    people = suppress_table(labels, [_("People reached")], [[rows[s.pk].reach] for s in schools])
    cells, done_share, evaluated_share = [], [], []
    totals = {"planned": 0, "done": 0, "evaluated": 0, "cancelled": 0}
    for school, people_cells in zip(schools, people.cells, strict=True):
        row = rows[school.pk]
        for name in totals:
            totals[name] += getattr(row, name)
        done_share.append(share(row.done, row.planned))
        evaluated_share.append(share(row.evaluated, row.planned))
        cells.append([str(row.planned), str(row.done), str(row.evaluated), str(row.cancelled),
                      show_share(done_share[-1]), show_share(evaluated_share[-1]), *people_cells])
    if schools:
        cells.append([*[str(value) for value in totals.values()],
                      show_share(share(totals["done"], totals["planned"])),
                      show_share(share(totals["evaluated"], totals["planned"])), *people.column_totals])
    columns = [_("Planned"), _("Done"), _("Evaluated"), _("Cancelled"), _("Share done"), _("Share evaluated"),
               *people.column_labels]
    return Panel(
        key="annualclock-activities", section=section, row_heading=_("School"),
        title=_("Annual clock: activities done and evaluated"),
        description=_("Activities on each school's clock for the school year: planned (all but the cancelled "
                      "ones), done and evaluated, with their share of the planned activities, and the people "
                      "the evaluations say were reached (summed over the activities; under five is not "
                      "shown). Schools without a clock are not listed."),
        table=FigureTable(labels + [_("Total")] if schools else [], columns, cells, list(people.notes)),
        chart=bar_chart(key="annualclock-activities", title=_("Share of planned activities done and evaluated"),
                        description=_("Per school, the share of the planned activities that were done and the "
                                      "share that were evaluated."),
                        labels=labels, unit=" %", series=[(_("Done"), done_share), (_("Evaluated"), evaluated_share)])
        if schools else "",
    )


def _ring_panel(section: str, rollups: list[ClockRollup]) -> Panel:
    counts: dict[str, list[int]] = {}
    for row in rollups:
        for ring_id, values in row.by_ring.items():
            total = counts.setdefault(ring_id, [0, 0, 0, 0])
            for k, value in enumerate(values):
                total[k] += value
    rings = [ring for ring in Ring.objects.all() if str(ring.pk) in counts] if counts else []
    labels = [ring.name for ring in rings]
    cells = []
    for ring in rings:
        planned, done, evaluated, cancelled = counts[str(ring.pk)]
        cells.append([str(planned), str(done), str(evaluated), str(cancelled), show_share(share(done, planned))])
    if rings:
        planned, done, evaluated, cancelled = (sum(counts[str(r.pk)][k] for r in rings) for k in range(4))
        cells.append([str(planned), str(done), str(evaluated), str(cancelled), show_share(share(done, planned))])
    columns = [_("Planned"), _("Done"), _("Evaluated"), _("Cancelled"), _("Share done")]
    return Panel(
        key="annualclock-rings", section=section, row_heading=_("Ring"),
        title=_("Annual clock: activities per ring"),
        description=_("The activities of the selected schools' clocks for the school year by ring (category): "
                      "planned (all but the cancelled ones), done, evaluated and cancelled."),
        table=FigureTable(labels + [_("Total")] if rings else [], columns, cells),
        chart=bar_chart(key="annualclock-rings", title=_("Activities per ring"),
                        description=_("Per ring, the planned, done and evaluated activities of the selected "
                                      "schools."),
                        labels=labels, series=[(_("Planned"), [counts[str(r.pk)][0] for r in rings]),
                                               (_("Done"), [counts[str(r.pk)][1] for r in rings]),
                                               (_("Evaluated"), [counts[str(r.pk)][2] for r in rings])])
        if rings else "",
    )
