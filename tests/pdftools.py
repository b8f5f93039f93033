"""Reading PDFs in tests with poppler-utils (pdftotext, pdfinfo, pdffonts); a test that needs
them is skipped, with the package named, where they are not installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def _poppler(tool: str, *args: str, content: bytes) -> str:
    if not shutil.which(tool):
        pytest.skip(f"poppler-utils ({tool}) is not installed")
    return subprocess.run([tool, *args], input=content, capture_output=True, check=True).stdout.decode("utf-8")


def pdf_text(content: bytes, *, layout: bool = True) -> str:
    """The text of a PDF, as a reader would copy it (UTF-8)."""
    return _poppler("pdftotext", *(["-layout"] if layout else []), "-enc", "UTF-8", "-", "-", content=content)


def pdf_info(content: bytes) -> str:
    """pdfinfo's report: Pages, Tagged, Page size, …"""
    return _poppler("pdfinfo", "-", content=content)


def pdf_fonts(content: bytes) -> list[list[str]]:
    """pdffonts' table, one list of columns per font (the "emb" column says whether it is embedded)."""
    return [line.split() for line in _poppler("pdffonts", "-", content=content).splitlines()[2:]]
