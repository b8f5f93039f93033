"""Import results: the issues found and the counts written."""

from __future__ import annotations

from dataclasses import dataclass, field

# --- Result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """One problem in the file. ``line`` is the file's line number (header = 1), or None
    when the problem concerns the whole import; ``column`` is the header as written."""

    line: int | None
    column: str
    value: str
    message: str


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    created_school_years: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> dict:
        """Counts only (no personal data), e.g. for the audit log."""
        return {"kind": self.kind, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "created_school_years": self.created_school_years}
