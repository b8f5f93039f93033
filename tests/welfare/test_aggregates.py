"""Small-number suppression: "<5" for 1–4, and no suppressed count can be worked out."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare.aggregates import HIDDEN_LABEL, SMALL_LABEL, suppress_count, suppress_table


def test_single_counts():
    assert [suppress_count(n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]


def test_school_with_three_pupils_past_a_step_shows_small_and_totals_do_not_reveal_it():
    table = suppress_table(["Koulu A", "Koulu B", "Koulu C"], ["30 h", "50 h"],
                           [[3, 12], [20, 9], [15, 7]])
    assert table.cells[0][0] == SMALL_LABEL
    # Total − visible cells would give 3 away: the school's total is hidden, and column "30 h" hides
    # one more school's count (its total, the municipality's figure, stays published).
    assert table.row_totals[0] == HIDDEN_LABEL
    assert [row[0] for row in table.cells].count(HIDDEN_LABEL) == 1 and table.column_totals[0] == "38"
    assert_not_recoverable(table)


def test_nothing_small_means_nothing_hidden():
    table = suppress_table(["A", "B"], ["x", "y"], [[10, 0], [7, 25]])
    assert table.cells == [["10", "0"], ["7", "25"]]
    assert table.row_totals == ["10", "32"] and table.column_totals == ["17", "25"] and table.grand_total == "42"
    assert table.suppressed_cells == 0 and table.notes == []


def test_a_whole_small_table_hides_its_totals_too():
    table = suppress_table(["A"], ["x"], [[2]])
    assert table.cells == [[SMALL_LABEL]]
    assert table.row_totals[0] in (SMALL_LABEL, HIDDEN_LABEL)
    assert table.grand_total in (SMALL_LABEL, HIDDEN_LABEL)
    assert_not_recoverable(table)


def test_small_totals_do_not_pin_their_cells():
    """Four ones: totals 2, 2 and 4 are all small, and "<5" on every total would pin each cell to 1."""
    table = suppress_table(["A", "B"], ["x", "y"], [[1, 1], [1, 1]])
    assert all(cell == SMALL_LABEL for row in table.cells for cell in row)
    assert_not_recoverable(table)


def test_export_matrix_has_labels_and_totals():
    matrix = suppress_table(["A", "B"], ["x"], [[1], [9]]).as_matrix(total_label="Yhteensä")
    assert matrix[0] == ["", "x", "Yhteensä"]
    assert matrix[1][0] == "A" and matrix[-1][0] == "Yhteensä"
    assert all(len(row) == 3 for row in matrix)


# --- Exhaustive proof on small tables --------------------------------------------------------

def _published(table):
    """The extended matrix as a reader sees it."""
    rows = [[*cells, total] for cells, total in zip(table.cells, table.row_totals, strict=True)]
    rows.append([*table.column_totals, table.grand_total])
    return rows


def _solver(table):
    """A tiny exact solver over the published table: hidden "<5" cells are 1..4, "×" cells ≥ 0.

    Returns (small cells, exists) where exists(fixed) tells whether some assignment of all hidden
    cells, agreeing with ``fixed``, satisfies every row and column sum. Domains start from the
    module's interval propagation (a sound outer bound), then depth-first search decides exactly."""
    grid = _published(table)
    n_rows, n_cols = len(grid) - 1, len(grid[0]) - 1
    status = {(i, j): "small" if v == SMALL_LABEL else "hidden"
              for i, row in enumerate(grid) for j, v in enumerate(row) if v in (SMALL_LABEL, HIDDEN_LABEL)}
    values = [[0 if (i, j) in status else int(v) for j, v in enumerate(row)] for i, row in enumerate(grid)]
    cap = 4 * len(status) + sum(map(sum, values))  # no hidden count can exceed everything there is
    domains = {p: range(1, 5) if kind == "small" else range(0, cap + 1) for p, kind in status.items()}
    lines = [([(i, j) for j in range(n_cols)], (i, n_cols)) for i in range(n_rows + 1)]
    lines += [([(i, j) for i in range(n_rows)], (n_rows, j)) for j in range(n_cols + 1)]

    def value(assign, p):
        return assign.get(p) if p in domains else values[p[0]][p[1]]

    def propagate(assign):
        changed = True
        while changed:
            changed = False
            for parts, total in lines:
                members = [(p, 1) for p in parts] + [(total, -1)]
                unknown = [(p, sign) for p, sign in members if value(assign, p) is None]
                known = sum(sign * value(assign, p) for p, sign in members if value(assign, p) is not None)
                if not unknown:
                    if known != 0:
                        return None
                elif len(unknown) == 1:
                    p, sign = unknown[0]
                    forced = -known * sign
                    if forced not in domains[p]:
                        return None
                    assign = {**assign, p: forced}
                    changed = True
        return assign

    def exists(assign):
        assign = propagate(dict(assign))
        if assign is None:
            return False
        free = [p for p in domains if p not in assign]
        if not free:
            return True
        p = min(free, key=lambda q: len(domains[q]))
        return any(exists({**assign, p: v}) for v in domains[p])

    small = [p for p, kind in status.items() if kind == "small"]
    return small, domains, exists


def assert_not_recoverable(table):
    """Every "<5" cell has at least two values that agree with everything published."""
    small, domains, exists = _solver(table)
    for p in small:
        possible = []
        for v in domains[p]:
            if exists({p: v}):
                possible.append(v)
                if len(possible) == 2:
                    break
        assert len(possible) >= 2, f"the cell at {p} can be worked out: only {possible} fits {_published(table)}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4).flatmap(lambda rows: st.integers(1, 4).flatmap(
    lambda cols: st.lists(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 11]), min_size=cols, max_size=cols),
                          min_size=rows, max_size=rows))))
def test_no_suppressed_count_can_be_recovered_from_totals(counts):
    table = suppress_table([f"r{i}" for i in range(len(counts))], [f"c{j}" for j in range(len(counts[0]))], counts)
    # Visible figures are true figures.
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            shown = table.cells[i][j]
            assert shown in (SMALL_LABEL, HIDDEN_LABEL) or int(shown) == value
            if 0 < value < 5:
                assert shown == SMALL_LABEL
    assert_not_recoverable(table)


def test_brute_force_checker_catches_a_naive_table():
    """The checker itself must fail on the naive publication (only primary suppression)."""
    from welfare.aggregates import SuppressedTable

    naive = SuppressedTable(["A", "B"], ["x", "y"], [[SMALL_LABEL, "10"], ["7", "25"]], ["13", "32"],
                            ["10", "35"], "45")
    try:
        assert_not_recoverable(naive)
    except AssertionError as error:
        assert "only [3]" in str(error)
        return
    raise AssertionError("the checker did not notice that 13 − 10 = 3")
