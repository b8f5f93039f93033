"""Importing absence data (daily records or period totals) from Wilma/Primus exports.

The life of an import (an :class:`AbsenceImport` row records all of it):

1. ``receive_upload()`` streams the uploaded file to
   ``MEDIA_ROOT/absence-imports/<schema>/<id>/`` (size limit, SHA-256 on the way), detects
   encoding, separator and header, and proposes a column mapping from the header names.
2. ``set_mapping()`` (the browser's mapping step; the API auto-maps or takes a mapping).
3. ``start_import()`` runs the import in the request for small files and sends larger ones
   (``ASYNC_MIN_BYTES``, about 20,000 rows) to Celery after commit; ``run_import()`` is the work:
   every row is validated first (each error: line, column, value, message); valid rows are
   streamed by COPY into a temporary table; only if the whole file is valid does one
   transaction merge them (see ``writing``).  Otherwise nothing is written.
4. The file is deleted; one audit entry records the counts.

Who may call: views and API endpoints that checked ``Action.IMPORT_ABSENCES``; the pupils a
principal may import are narrowed here from the importing user's grants (at run time).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from absences.models import AbsenceImport
from absences.services.imports.reading import FIELDS, REQUIRED, Abort, ImportIssue, detect_layout, iter_rows, norm
from absences.services.imports.validation import Lookups, Outcome, validate_daily, validate_totals
from absences.services.imports.writing import ReferencesChanged, Stage
from absences.services.rollups import schools_of
from welfare import audit
from welfare.models import AuditAction
from welfare.policy import Action, allowed_schools

__all__ = ["ASYNC_MIN_BYTES", "FIELDS", "REQUIRED", "fail", "import_file", "missing_fields", "receive_upload",
           "run_import", "set_mapping", "start_import"]

logger = logging.getLogger(__name__)

IMPORT_DIR = "absence-imports"
# Larger files go to Celery (a 512 KB CSV is about 20,000 rows and takes about a second inline).
ASYNC_MIN_BYTES = 512 * 1024
CHUNK_BYTES = 1024 * 1024


def _directory(record: AbsenceImport) -> Path:
    return Path(settings.MEDIA_ROOT) / IMPORT_DIR / connection.schema_name / str(record.pk)


def source_path(record: AbsenceImport) -> Path:
    return _directory(record) / "source"


def _issue(issue: ImportIssue) -> dict:
    return {"line": issue.line, "column": issue.column, "value": issue.value, "message": str(issue.message)}


def fail(record: AbsenceImport, errors: list[dict], error_count: int | None = None, **fields) -> AbsenceImport:
    record.status = AbsenceImport.Status.FAILED
    record.errors = errors
    record.error_count = error_count if error_count is not None else len(errors)
    record.finished_at = timezone.now()
    for name, value in fields.items():
        setattr(record, name, value)
    record.save()
    _delete_file(record)
    _audit(record)
    return record


def _delete_file(record: AbsenceImport) -> None:
    shutil.rmtree(_directory(record), ignore_errors=True)


def _importer(record: AbsenceImport):
    """The user who uploaded the file (None: an operator's import from the shell or the bench)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=record.user_id).first() if record.user_id else None


def _audit(record: AbsenceImport) -> None:
    audit.record(None, AuditAction.CREATE, object_type="absences.absenceimport", object_id=str(record.pk),
                 user=_importer(record), detail=counts(record))


def counts(record: AbsenceImport) -> dict:
    """The import's figures, without personal data (audit detail, API)."""
    return {"kind": record.kind, "status": record.status, "rows": record.rows_total,
            "created": record.rows_created, "replaced": record.rows_replaced, "removed": record.rows_removed,
            "unchanged": record.rows_unchanged, "errors": record.error_count}


# --- 1. Upload ----------------------------------------------------------------------------


def receive_upload(file: BinaryIO, *, file_name: str, user=None, kind: str | None = None) -> AbsenceImport:
    """Store the upload and detect its layout. A file that cannot be read at all (too large,
    empty, wrong encoding, not CSV/XLSX) gives an import that is already FAILED."""
    record = AbsenceImport.objects.create(
        kind=kind or AbsenceImport.Kind.DAILY, file_name=Path(file_name or "absences.csv").name[:255],
        user_id=getattr(user, "pk", None), user_email=(getattr(user, "email", "") or "")[:254])
    directory = _directory(record)
    directory.mkdir(parents=True, exist_ok=True)
    digest, size, limit = hashlib.sha256(), 0, settings.IMPORT_MAX_BYTES
    if hasattr(file, "seek"):
        file.seek(0)
    with open(source_path(record), "wb") as target:
        while chunk := file.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                return fail(record, [_issue(ImportIssue(None, "", "", _(
                    "The file is larger than the limit of %(limit)s MB.") % {
                    "limit": f"{limit / (1024 * 1024):.3g}"}))], size_bytes=size)
            digest.update(chunk)
            target.write(chunk)
    record.file_sha256, record.size_bytes = digest.hexdigest(), size
    if size == 0:
        return fail(record, [_issue(ImportIssue(None, "", "", _("The file is empty.")))])
    try:
        layout = detect_layout(source_path(record))
    except Abort as abort:
        return fail(record, [_issue(abort.issue)])
    fields = layout.auto_fields()
    if kind is None and "period_start" in fields and "period_end" in fields and "date" not in fields:
        record.kind = AbsenceImport.Kind.PERIOD_TOTALS
    record.mapping = {**layout.as_mapping(fields), "preview": layout.preview}
    record.save()
    return record


# --- 2. Mapping ---------------------------------------------------------------------------


def missing_fields(record: AbsenceImport) -> list[str]:
    """Required fields the mapping does not give, in order."""
    fields = record.mapping.get("fields", {})
    return [name for name in REQUIRED[record.kind] if name not in fields]


def ignored_headers(record: AbsenceImport) -> list[str]:
    used = set(record.mapping.get("fields", {}).values())
    return [header for index, header in enumerate(record.mapping.get("headers", [])) if header and index not in used]


def set_mapping(record: AbsenceImport, fields: dict[str, int], kind: str | None = None) -> AbsenceImport:
    """Store the user's choice: field → column index (only required and known fields count)."""
    width = len(record.mapping.get("headers", []))
    record.mapping["fields"] = {name: int(index) for name, index in fields.items()
                                if name in FIELDS and 0 <= int(index) < width}
    if kind:
        record.kind = kind
    record.save(update_fields=["mapping", "kind"])
    return record


def mapping_by_header(record: AbsenceImport, by_header: dict[str, str]) -> list[dict]:
    """Apply {header as written: field} (the API's ``mapping``); returns errors for unknown headers/fields."""
    headers = {norm(header): index for index, header in enumerate(record.mapping.get("headers", []))}
    fields, errors = {}, []
    for header, name in by_header.items():
        if name in ("", "ignore", None):
            continue
        if name not in FIELDS:
            errors.append(_issue(ImportIssue(None, str(header), str(name), _(
                'Unknown field "%(value)s": use one of %(fields)s.') % {"value": name, "fields": ", ".join(FIELDS)})))
        elif norm(str(header)) not in headers:
            errors.append(_issue(ImportIssue(1, str(header), "", _("The file has no such column."))))
        else:
            fields[name] = headers[norm(str(header))]
    if not errors:
        set_mapping(record, {**record.mapping.get("fields", {}), **fields})
    return errors


def _missing_errors(record: AbsenceImport) -> list[dict]:
    return [_issue(ImportIssue(1, str(FIELDS[name].label), "", _(
        'Required column missing: %(field)s (header "%(examples)s").') % {
        "field": FIELDS[name].label,
        "examples": '", "'.join(alias.capitalize() for alias in FIELDS[name].aliases[:3])}))
        for name in missing_fields(record)]


# --- 3. Running ---------------------------------------------------------------------------


def start_import(record: AbsenceImport) -> AbsenceImport:
    """Run now (small file) or send to Celery after commit (large file). Returns the record."""
    if record.status != AbsenceImport.Status.PENDING:
        return record
    errors = _missing_errors(record)
    if errors:
        return fail(record, errors)
    if record.size_bytes >= ASYNC_MIN_BYTES:
        from absences.tasks import run_absence_import

        transaction.on_commit(lambda: run_absence_import.delay(record.pk))
        return record
    return run_import(record.pk)


def run_import(import_id: int, *, evaluate: bool = True) -> AbsenceImport:
    """Validate the stored file, then (all rows valid) merge it in one transaction.

    Idempotent: a finished import is returned as it is. ``evaluate`` schedules the threshold
    evaluation of the imported pupils after commit (when that module exists).
    """
    record = AbsenceImport.objects.get(pk=import_id)
    if record.status not in (AbsenceImport.Status.PENDING, AbsenceImport.Status.RUNNING):
        return record
    errors = _missing_errors(record)
    if errors:
        return fail(record, errors)
    path = source_path(record)
    if not path.exists():
        return fail(record, [_issue(ImportIssue(None, "", "", _("The uploaded file is no longer available: "
                                                                  "upload it again.")))])
    AbsenceImport.objects.filter(pk=record.pk).update(status=AbsenceImport.Status.RUNNING, progress=0)
    lookups = Lookups(_allowed_schools(record), timezone.localdate())
    stage = Stage(record.kind)
    last = [0]

    def progress(fraction: float) -> None:
        percent = min(int(fraction * 90), 90)
        if percent > last[0]:
            last[0] = percent
            stage.flush()
            AbsenceImport.objects.filter(pk=record.pk).update(progress=percent)

    validate = validate_daily if record.kind == AbsenceImport.Kind.DAILY else validate_totals
    started = time.perf_counter()
    try:
        try:
            outcome = validate(iter_rows(path, record.mapping, progress=progress), record.mapping, lookups,
                               stage.write)
        except Abort as abort:
            outcome = Outcome(error_count=1, errors=[_issue(abort.issue)])
        stage.flush()
        if outcome.ok and not outcome.rows:
            outcome.add(None, "", "", _("The file has a header but no rows."))
        if not outcome.ok:
            return fail(record, outcome.errors, outcome.error_count, rows_total=outcome.rows, progress=100,
                         range_start=outcome.range_start, range_end=outcome.range_end)
        validated = time.perf_counter()
        try:
            with transaction.atomic():
                _merge(stage, record, outcome, evaluate)
        except ReferencesChanged:
            return fail(record, [_issue(ImportIssue(None, "", "", _(
                "A pupil in the file was removed from the register while the file was imported: "
                "nothing was saved. Upload the file again.")))], rows_total=outcome.rows, progress=100)
        # Seconds per phase (not stored): the benchmark reports them.
        record.timings = {"validate_s": round(validated - started, 2),
                          "merge_s": round(time.perf_counter() - validated, 2)}
    finally:
        stage.drop()
    _delete_file(record)
    logger.info("absence import id=%s schema=%s %s", record.pk, connection.schema_name, counts(record))
    return record


def _merge(stage: Stage, record: AbsenceImport, outcome, evaluate: bool) -> None:
    """The one write transaction of an import (the caller holds transaction.atomic())."""
    student_ids = sorted(int(pk) for pk in outcome.student_ids)
    result = stage.merge(record.pk, outcome.range_start, outcome.range_end, outcome.rows,
                         student_ids=student_ids, category_ids=sorted(outcome.category_ids))
    record.status = AbsenceImport.Status.DONE
    record.progress = 100
    record.finished_at = timezone.now()
    record.rows_total = outcome.rows
    record.rows_created, record.rows_replaced = result["created"], result["replaced"]
    record.rows_removed = result["removed"]
    record.rows_unchanged = outcome.rows - result["created"] - result["replaced"]
    record.range_start, record.range_end = outcome.range_start, outcome.range_end
    record.errors, record.error_count = [], 0
    record.save()
    if evaluate:
        _schedule_evaluation(student_ids, outcome.range_start, outcome.range_end)
    _audit(record)


def _allowed_schools(record: AbsenceImport) -> set[int] | None:
    user = _importer(record)
    if user is None:  # operators (bench, management shell): the whole municipality
        return None
    return allowed_schools(user, Action.IMPORT_ABSENCES)


def _schedule_evaluation(student_ids: list[int], first_day, last_day) -> None:
    """After commit: evaluate the imported pupils (the evaluation task rebuilds the escalation
    rollups of what it raises) and rebuild the hour rollups of their schools and the file's terms
    (absences.tasks)."""
    from absences.tasks import evaluate_students_task, refresh_rollups_task, send_after_commit

    if student_ids:
        send_after_commit(evaluate_students_task, student_ids)
        send_after_commit(refresh_rollups_task, schools_of(student_ids), str(first_day), str(last_day),
                          escalations=False)


def import_file(file: BinaryIO, *, file_name: str = "absences.csv", user=None, kind: str | None = None,
                mapping: dict[str, str] | None = None, evaluate: bool = True) -> AbsenceImport:
    """Upload, auto-map (or apply {header: field}) and run at once, whatever the size (tests, bench, shell)."""
    record = receive_upload(file, file_name=file_name, user=user, kind=kind)
    if record.status != AbsenceImport.Status.PENDING:
        return record
    if mapping:
        errors = mapping_by_header(record, mapping)
        if errors:
            return fail(record, errors)
    return run_import(record.pk, evaluate=evaluate)  # fails the import when a required column is missing
