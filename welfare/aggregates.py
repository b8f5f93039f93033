"""Aggregate tables with small-number suppression (domain.md part A, decision 5).

Every coordinator view, dashboard panel, export and report builds its figures here.

* Primary suppression: a count of 1–4 is published as "<5" (0 is published as 0).
* Secondary suppression ("×"): whatever else must be hidden so that no "<5" count can be
  worked out from the published table.

The rule, and why it is exact
-----------------------------
Column totals (e.g. the municipality's count per escalation step) stay published wherever
possible; rows (e.g. schools) are what gets protected.

1. A column total of 1–4 is hidden ("×": a reader learns no upper bound from it).
2. In each column whose total is published, the hidden cells must not be pinned down by
   "total − visible cells".  A reader knows "<5" means 1..4 and "×" means some count ≥ 0; for one
   equation these ranges are exact (``column_ranges``).  While a "<5" cell's range is a single
   value, the column's smallest non-zero visible cell is hidden too (its total if none is left).
3. A row that contains a hidden cell shows its total as "×".
4. The grand total is published only when every column total is.

With rules 3 and 4, a row total or a hidden column total is an unknown that appears in only
its own line plus the equations of the totals row and column, whose shared total is itself either
hidden or implied by the published column totals.  Any choice of hidden cells that satisfies the
published columns therefore extends to a full consistent table: each column can be checked on its
own, and rule 2 does exactly that.  tests/welfare/test_aggregates.py verifies it exhaustively on
generated tables with an independent solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

THRESHOLD = 5
PRIMARY = "primary"
SECONDARY = "secondary"
SMALL_LABEL = "<5"
HIDDEN_LABEL = "×"


def suppress_count(value: int, threshold: int = THRESHOLD) -> str:
    """One stand-alone figure: "<5" for 1..threshold-1, else the number."""
    return SMALL_LABEL if 0 < value < threshold else str(value)


def shown_count(cell: str) -> int | None:
    """The count a published cell shows, for a chart or a derived figure; None for "<5" and "×"
    (whatever is drawn or derived from a hidden cell would give it away)."""
    return int(cell) if cell.isdigit() else None


def suppress_mean(total: float, answers: int, threshold: int = THRESHOLD) -> float | None:
    """A mean (one decimal) published only when it rests on at least ``threshold`` answers."""
    return round(total / answers, 1) if answers >= threshold else None


def show_mean(value: float | None, answers: int) -> str:
    """Display form of ``suppress_mean``: "–" without answers, "×" when too few to publish."""
    from django.utils.formats import number_format

    if not answers:
        return "–"
    return HIDDEN_LABEL if value is None else number_format(value, 1)


@dataclass
class SuppressedTable:
    """A table ready to publish: ``cells`` and totals hold display strings only.

    The true values stay out of this object so nothing downstream (templates, CSV, PDF)
    can leak them by accident.
    """

    row_labels: list[str]
    column_labels: list[str]
    cells: list[list[str]]
    row_totals: list[str]
    column_totals: list[str]
    grand_total: str
    suppressed_cells: int = 0
    notes: list[str] = field(default_factory=list)

    def rows(self):
        """(label, [cells...], total) per row, for templates and exports."""
        return [(label, cells, total) for label, cells, total in zip(self.row_labels, self.cells, self.row_totals,
                                                                       strict=True)]

    def as_matrix(self, total_label: str = "") -> list[list[str]]:
        """Header + rows + totals row, for CSV/XLSX export."""
        total_label = total_label or str(_("Total"))
        matrix = [["", *self.column_labels, total_label]]
        for label, cells, total in self.rows():
            matrix.append([label, *cells, total])
        matrix.append([total_label, *self.column_totals, self.grand_total])
        return matrix


def column_ranges(hidden_kinds: list[str], hidden_sum: int) -> list[tuple[int, int]]:
    """The exact range each hidden cell of one column can take, given only their sum.

    ``hidden_kinds`` lists PRIMARY ("<5": 1..4) or SECONDARY ("×": 0..sum) per hidden cell.
    For one equation over integer intervals, x_i ranges over [sum − Σ others' max, sum − Σ others' min]."""
    low = [1 if kind == PRIMARY else 0 for kind in hidden_kinds]
    high = [THRESHOLD - 1 if kind == PRIMARY else hidden_sum for kind in hidden_kinds]
    total_low, total_high = sum(low), sum(high)
    return [
        (max(low[i], hidden_sum - (total_high - high[i])), min(high[i], hidden_sum - (total_low - low[i])))
        for i in range(len(hidden_kinds))
    ]


def _protect_column(column: list[int], total: int, status: dict[int, str]) -> bool:
    """Hide cells of one column until no "<5" cell is pinned; False when the total must go."""
    while True:
        hidden = sorted(status)
        if not hidden:
            return True
        hidden_sum = total - sum(value for i, value in enumerate(column) if i not in status)
        ranges = column_ranges([status[i] for i in hidden], hidden_sum)
        if all(low < high for i, (low, high) in zip(hidden, ranges, strict=True) if status[i] == PRIMARY):
            return True
        candidates = [i for i, value in enumerate(column) if i not in status and value > 0]
        if not candidates:
            return False
        status[min(candidates, key=lambda i: column[i])] = SECONDARY


def suppress_table(row_labels: list[str], column_labels: list[str], counts: list[list[int]]) -> SuppressedTable:
    """Publishable version of a table of counts (rows × columns) with row, column and grand totals."""
    if len(counts) != len(row_labels) or any(len(row) != len(column_labels) for row in counts):
        raise ValueError("counts must be len(row_labels) × len(column_labels)")
    if any(value < 0 for row in counts for value in row):
        raise ValueError("counts cannot be negative")
    n_rows, n_cols = len(counts), len(column_labels)
    hidden: dict[tuple[int, int], str] = {
        (i, j): PRIMARY for i in range(n_rows) for j in range(n_cols) if 0 < counts[i][j] < THRESHOLD
    }
    column_totals = [sum(counts[i][j] for i in range(n_rows)) for j in range(n_cols)]
    total_hidden = [0 < total < THRESHOLD for total in column_totals]
    for j in range(n_cols):
        if total_hidden[j]:
            continue
        column = [counts[i][j] for i in range(n_rows)]
        status = {i: kind for (i, jj), kind in hidden.items() if jj == j}
        if not _protect_column(column, column_totals[j], status):
            total_hidden[j] = True
        hidden.update({(i, j): kind for i, kind in status.items()})
    rows_hidden = {i for i, _j in hidden}

    def show(i, j):
        kind = hidden.get((i, j))
        if kind == PRIMARY:
            return SMALL_LABEL
        if kind == SECONDARY:
            return HIDDEN_LABEL
        return str(counts[i][j])

    table = SuppressedTable(
        row_labels=list(row_labels),
        column_labels=list(column_labels),
        cells=[[show(i, j) for j in range(n_cols)] for i in range(n_rows)],
        row_totals=[HIDDEN_LABEL if i in rows_hidden else str(sum(counts[i])) for i in range(n_rows)],
        column_totals=[HIDDEN_LABEL if total_hidden[j] else str(column_totals[j]) for j in range(n_cols)],
        grand_total=HIDDEN_LABEL if any(total_hidden) else str(sum(column_totals)),
        suppressed_cells=len(hidden),
    )
    if any(kind == PRIMARY for kind in hidden.values()):
        table.notes.append(str(_("<5: fewer than five; the exact number is not shown to protect privacy.")))
    if HIDDEN_LABEL in {*table.row_totals, *table.column_totals, table.grand_total} or SECONDARY in hidden.values():
        table.notes.append(str(_("×: hidden so that a number under five cannot be worked out from the totals.")))
    return table
