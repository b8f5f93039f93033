"""Reading a register file: size limit, encoding, delimiter, rows with their line numbers.

The absence import reuses ``choose_encoding``, ``sniff_delimiter`` and ``normalise_header``."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from django.conf import settings
from django.utils.translation import gettext as _

from welfare.services.imports.constants import CHUNK_BYTES, DELIMITERS, ENCODINGS, SAMPLE_CHARS
from welfare.services.imports.result import ImportIssue

# --- Reading the file ---------------------------------------------------------------------


class ImportAborted(Exception):
    """The file cannot be read further; the issue says why."""

    def __init__(self, issue: ImportIssue):
        self.issue = issue


def _seekable(file: BinaryIO | bytes) -> BinaryIO:
    if isinstance(file, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(file))
    if getattr(file, "seekable", lambda: False)():
        file.seek(0)
        return file
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # closed by import_register
    limit = settings.IMPORT_MAX_BYTES
    total = 0
    while chunk := file.read(CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise ImportAborted(_too_large())
        spool.write(chunk)
    spool.seek(0)
    return spool


def _too_large() -> ImportIssue:
    limit_mb = settings.IMPORT_MAX_BYTES / (1024 * 1024)
    return ImportIssue(None, "", "", _("The file is larger than the limit of %(limit)s MB.") % {
        "limit": f"{limit_mb:.3g}"})


def choose_encoding(stream: BinaryIO) -> str:
    """Try UTF-8 (BOM optional) strictly, then Windows-1252; also enforce the size limit.

    Reads the stream in chunks, so the file is never held in memory whole."""
    limit = settings.IMPORT_MAX_BYTES
    size = getattr(stream, "size", None)
    if isinstance(size, int) and size > limit:
        raise ImportAborted(_too_large())
    first_failure: tuple[int, bytes] | None = None
    for encoding in ENCODINGS:
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        total = newlines = 0
        try:
            while chunk := stream.read(CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise ImportAborted(_too_large())
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    offset = max(exc.start - (len(exc.object) - len(chunk)), 0)
                    raise _DecodeFailure(newlines + chunk[:offset].count(b"\n") + 1,
                                         exc.object[exc.start:exc.end]) from exc
                newlines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except _DecodeFailure as failure:
            first_failure = first_failure or (failure.line, failure.raw)
            continue
        except UnicodeDecodeError:  # truncated multi-byte sequence at the very end
            first_failure = first_failure or (newlines + 1, b"")
            continue
        if total == 0:
            raise ImportAborted(ImportIssue(None, "", "", _("The file is empty.")))
        return encoding
    line, raw = first_failure
    raise ImportAborted(ImportIssue(line, "", raw.hex(" ").upper(), _(
        "The file is neither UTF-8 nor Windows-1252 text. Save it from the register or spreadsheet "
        "as CSV (UTF-8).")))


class _DecodeFailure(Exception):
    def __init__(self, line: int, raw: bytes):
        self.line, self.raw = line, raw


def sniff_delimiter(sample: str) -> str:
    """The separator, by csv.Sniffer; the header line decides when the sniffer cannot."""
    if "\n" in sample.rstrip("\r\n"):
        sample = sample[: sample.rfind("\n")]  # only whole lines: a cut line confuses the sniffer
    header = sample.lstrip("\r\n").splitlines()[0] if sample.strip() else ""
    by_header = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ";"
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # e.g. a single column
        return by_header
    # A separator missing from the header line cannot be the right one.
    return sniffed if sniffed in header else by_header


def _rows(text: io.TextIOBase) -> Iterator[tuple[int, list[str]]]:
    """(line number of the row's first line, values) for each non-blank record."""
    sample = text.read(SAMPLE_CHARS)
    if not sample.strip():
        raise ImportAborted(ImportIssue(None, "", "", _("The file is empty.")))
    text.seek(0)
    reader = csv.reader(text, delimiter=sniff_delimiter(sample))
    previous_line = 0
    try:
        for values in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if any(value.strip() for value in values):
                yield line, values
    except csv.Error as exc:
        raise ImportAborted(ImportIssue(reader.line_num, "", "", _("The file is not valid CSV: %(error)s") % {
            "error": exc})) from exc
