"""The benchmark harness works: JSON-line output, the runner, and request_overhead at a tiny N.

Uses its own database (yhdessa_bench_smoke, dropped at the end), never the test database.
"""

from __future__ import annotations

import json

import pytest

from bench import __main__ as runner
from bench import _common


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_emit_prints_one_json_line(capsys):
    record = _common.emit("example_s", 1.234567891, "s", n=3)
    out = capsys.readouterr().out
    assert out.endswith("\n") and out.count("\n") == 1
    assert _lines(out) == [record] == [{"metric": "example_s", "value": 1.2346, "unit": "s", "n": 3}]


def test_bench_database_url_only_changes_the_name(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:5433/yhdessa?sslmode=require")
    assert _common.bench_database_url() == (
        f"postgresql://u:p@db.example:5433/{_common.BENCH_DB_NAME}?sslmode=require"
    )
    monkeypatch.delenv("DATABASE_URL")
    assert _common.bench_database_url().startswith(f"postgresql://postgres@/{_common.BENCH_DB_NAME}?host=")


def test_runner_lists_the_benchmarks(capsys):
    assert runner.main(["--list"]) == 0
    assert {"tenant_create", "migrate_noop", "request_overhead"} <= set(capsys.readouterr().out.split())


def test_children_refuse_any_other_database(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@/postgres")
    with pytest.raises(SystemExit, match="not the bench database"):
        _common.setup_django()


@pytest.mark.slow
def test_request_overhead_at_tiny_n(monkeypatch, capsys):
    monkeypatch.setattr(_common, "BENCH_DB_NAME", "yhdessa_bench_smoke")
    monkeypatch.setitem(_common.OPTIONS, "fresh", False)
    _common._READY.clear()
    try:
        from bench import request_overhead

        request_overhead.run(requests=5)
    finally:
        _common.drop_bench_db()
    metrics = {line["metric"]: line for line in _lines(capsys.readouterr().out)}
    assert {"request_overhead_ms", "landing_page_median_ms", "bare_view_median_ms",
            "staff_request_overhead_ms"} <= set(metrics)
    assert metrics["landing_page_median_ms"]["value"] > 0
    assert metrics["landing_page_median_ms"]["unit"] == "ms"
