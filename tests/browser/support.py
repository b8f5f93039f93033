"""Shared by the browser tests and tests/test_i18n.py: where chromium is, and the gettext catalogues.

The .mo files are not in git (``make run``/``make test`` compile them);
``compile_messages_if_stale`` keeps a bare ``pytest`` run working too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

LANGUAGES = ("fi", "sv", "en")
CHROMIUM = Path(os.environ.get("YHDESSA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SKIP_REASON = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests"


def po_path(language: str) -> Path:
    """The project catalogue (the shell, the core and absences)."""
    return Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"


def po_paths(language: str) -> list[Path]:
    """Every catalogue of a language: the project's plus each module app's own ``<app>/locale``
    (makemessages puts an app's strings there once the directory exists)."""
    root = Path(settings.BASE_DIR)
    apps = sorted(root.glob(f"*/locale/{language}/LC_MESSAGES/django.po"))
    return [po_path(language), *[path for path in apps if path != po_path(language)]]


def compile_messages_if_stale() -> None:
    stale = []
    for po in [path for language in LANGUAGES for path in po_paths(language)]:
        mo = po.with_suffix(".mo")
        if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
            stale.append((po, mo))
    if not stale or not shutil.which("msgfmt"):
        return
    for po, mo in stale:
        subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
    # Django caches loaded catalogues per process: forget them so the new .mo files are read.
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
