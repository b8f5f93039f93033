"""Writing: valid rows go by COPY into a temporary table, then set-based SQL merges them.

The merge runs in one transaction, under a per-municipality advisory lock (two imports never
interleave, so the counts are exact):

* daily records: the file's date range is replaced for the file's pupils: their rows in
  [range_start, range_end] absent from the file are deleted, changed hours are updated,
  new rows inserted, equal rows left alone (so a re-import changes nothing);
* period totals: upserted on (pupil, period, category); a pupil's other categories for the
  same period are removed (the file is the register's current truth for that period).
"""

from __future__ import annotations

from django.db import connection

from welfare.locks import advisory_lock

STAGE = "absence_import_stage"

STAGE_COLUMNS = {
    "daily": "line integer, student_id bigint, date date, category_id bigint, hours numeric(4,2)",
    "period_totals": ("line integer, student_id bigint, period_start date, period_end date, category_id bigint, "
                      "hours numeric(7,2)"),
}
TARGET = {"daily": "absences_absencerecord", "period_totals": "absences_absenceperiodtotal"}
FRESH_STATISTICS_ROWS = 50_000
COPY_COLUMNS = {
    "daily": "line, student_id, date, category_id, hours",
    "period_totals": "line, student_id, period_start, period_end, category_id, hours",
}


class ReferencesChanged(Exception):
    """A pupil or category the file refers to was deleted between validation and the merge."""


class Stage:
    """The temporary table of one import; rows are written with COPY in chunks so that
    progress can be stored between chunks (a COPY occupies the connection)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.cursor = connection.cursor()
        self.cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
        self.cursor.execute(f"CREATE TEMP TABLE {STAGE} ({STAGE_COLUMNS[kind]})")
        self._copy_cm = self._copy = None

    def write(self, text: str) -> None:
        if self._copy is None:
            self._copy_cm = self.cursor.cursor.copy(f"COPY {STAGE} ({COPY_COLUMNS[self.kind]}) FROM STDIN")
            self._copy = self._copy_cm.__enter__()
        self._copy.write(text)

    def flush(self) -> None:
        """End the running COPY (if any), so that other statements can run."""
        if self._copy_cm is not None:
            cm, self._copy_cm, self._copy = self._copy_cm, None, None
            cm.__exit__(None, None, None)

    def drop(self) -> None:
        try:
            if self._copy_cm is not None:
                cm, self._copy_cm, self._copy = self._copy_cm, None, None
                cm.__exit__(RuntimeError, RuntimeError("import abandoned"), None)
        except Exception:  # noqa: S110 - the COPY is being thrown away anyway
            pass
        try:
            if not connection.needs_rollback:
                self.cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{STAGE}")
        finally:
            self.cursor.close()

    def merge(self, import_id: int, range_start, range_end, rows: int, *, student_ids: list[int],
              category_ids: list[int]) -> dict[str, int]:
        """Apply the staged rows; call inside transaction.atomic(). ``rows`` rows were staged,
        of the pupils and categories given (validation collected them). Returns the counts."""
        cursor = self.cursor
        advisory_lock("absence-import")
        cursor.execute(f"ANALYZE {STAGE}")
        if rows >= FRESH_STATISTICS_ROWS:
            # Right after a large import the planner may still believe the table small and choose
            # nested loops over millions of rows; fresh statistics cost a second at most.
            cursor.execute(f"ANALYZE {TARGET[self.kind]}")
        if self.kind == "daily":
            self._lock_references(student_ids, category_ids)
            return self._merge_daily(import_id, range_start, range_end, rows, student_ids)
        return self._merge_totals(import_id)

    def _lock_references(self, student_ids: list[int], category_ids: list[int]) -> None:
        """What the foreign-key triggers absences_absencerecord does not have would do, once per
        pupil and category instead of once per row: lock the referenced rows against deletion until
        commit and make sure they still exist (validation saw them; a pupil deleted since then
        aborts the import instead of leaving orphan rows)."""
        cursor = self.cursor
        for table, ids in (("welfare_student", student_ids), ("absences_absencecategory", category_ids)):
            cursor.execute(f"""
                SELECT count(*) FROM (SELECT id FROM {table} WHERE id = ANY(%s) FOR KEY SHARE) locked""", [ids])
            missing = len(ids) - cursor.fetchone()[0]
            if missing:
                raise ReferencesChanged(f"{missing} {table} rows were deleted during the import")

    def _merge_daily(self, import_id, range_start, range_end, staged: int, student_ids: list[int]) -> dict[str, int]:
        cursor = self.cursor
        in_range = [range_start, range_end]
        cursor.execute(f"""
            DELETE FROM absences_absencerecord r
             WHERE r.date BETWEEN %s AND %s
               AND r.student_id = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM {STAGE} s
                                WHERE s.student_id = r.student_id AND s.date = r.date
                                  AND s.category_id = r.category_id)""", [*in_range, student_ids])
        removed = cursor.rowcount
        # After the delete, the rows left in the range for these pupils are exactly the file's rows
        # already stored. None (a first import): one plain INSERT, the fastest. All of them (a
        # re-import): only changed hours are updated. Otherwise stored rows conflict and are skipped.
        cursor.execute("""
            SELECT count(*) FROM absences_absencerecord
             WHERE date BETWEEN %s AND %s AND student_id = ANY(%s)""", [*in_range, student_ids])
        stored = cursor.fetchone()[0]
        replaced = created = 0
        if stored:
            cursor.execute(f"""
                UPDATE absences_absencerecord r SET hours = s.hours, source_import_id = %s
                  FROM {STAGE} s
                 WHERE r.date BETWEEN %s AND %s
                   AND s.student_id = r.student_id AND s.date = r.date AND s.category_id = r.category_id
                   AND r.hours <> s.hours""", [import_id, *in_range])
            replaced = cursor.rowcount
        insert = f"""
            INSERT INTO absences_absencerecord (student_id, date, category_id, hours, source_import_id)
            SELECT student_id, date, category_id, hours, %s FROM {STAGE}"""
        if stored == 0:
            cursor.execute(insert, [import_id])
            created = cursor.rowcount
        elif stored < staged:
            cursor.execute(insert + " ON CONFLICT (student_id, date, category_id) DO NOTHING", [import_id])
            created = cursor.rowcount
        return {"created": created, "replaced": replaced, "removed": removed}

    def _merge_totals(self, import_id) -> dict[str, int]:
        cursor = self.cursor
        cursor.execute(f"""
            DELETE FROM absences_absenceperiodtotal t
             USING (SELECT DISTINCT student_id, period_start, period_end FROM {STAGE}) p
             WHERE t.student_id = p.student_id AND t.period_start = p.period_start AND t.period_end = p.period_end
               AND NOT EXISTS (SELECT 1 FROM {STAGE} s
                                WHERE s.student_id = t.student_id AND s.period_start = t.period_start
                                  AND s.period_end = t.period_end AND s.category_id = t.category_id)""")
        removed = cursor.rowcount
        cursor.execute(f"""
            WITH upserted AS (
                INSERT INTO absences_absenceperiodtotal
                       (student_id, period_start, period_end, category_id, hours, source_import_id)
                SELECT student_id, period_start, period_end, category_id, hours, %s FROM {STAGE}
                ON CONFLICT (student_id, period_start, period_end, category_id)
                DO UPDATE SET hours = EXCLUDED.hours, source_import_id = EXCLUDED.source_import_id
                 WHERE absences_absenceperiodtotal.hours <> EXCLUDED.hours
                RETURNING (xmax = 0) AS created)
            SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM upserted""",
                       [import_id])
        created, replaced = cursor.fetchone()
        return {"created": created, "replaced": replaced, "removed": removed}
