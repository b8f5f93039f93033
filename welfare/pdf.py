"""One small function turns a Django template into a PDF (anchors.md B "PDF").

Every PDF of Yhdessä goes through ``render_to_pdf``: templates live under
``templates/<app>/pdf/`` and extend ``welfare/pdf/base.html`` (fonts, page layout).
Output is tagged PDF/UA-1 so screen readers can read it (WeasyPrint marks its PDF/UA
support experimental; the tags and document language are what matter here).

Resources: only static files (``{% static %}`` paths or paths relative to the static
folders) and ``data:`` URLs are fetched; any other address is refused, so a template can
never make the server fetch something from the network.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

log = logging.getLogger(__name__)

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


class PDFRenderingError(Exception):
    """The PDF could not be produced (template error, WeasyPrint missing or failing)."""


def _static_roots() -> list[Path]:
    roots = [Path(directory) for directory in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


def _static_file(url: str) -> Path | None:
    """The local file behind a ``file:`` URL under a static folder or the STATIC_URL path."""
    path = unquote(urlparse(url).path)
    static_url = urlparse(settings.STATIC_URL).path or "/static/"
    if path.startswith(static_url):  # "{% static %}" paths, resolved against the file base URL
        found = finders.find(path[len(static_url):])
        if found:
            return Path(found)
        candidate = Path(settings.STATIC_ROOT or "/nonexistent") / path[len(static_url):]
        return candidate if candidate.is_file() else None
    candidate = Path(path).resolve()
    if any(candidate.is_relative_to(root) for root in _static_roots()) and candidate.is_file():
        return candidate
    return None


def _fetcher():
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file:") and (local := _static_file(url)) is not None:
                return super().fetch(local.as_uri(), headers)
            raise ValueError(f"PDF templates may only use static files, not {url[:100]}")

    return StaticOnlyFetcher(allowed_protocols={"file", "data"})


def _base_url() -> str:
    for root in _static_roots():
        if root.is_dir():
            return root.as_uri() + "/"
    return Path(settings.BASE_DIR).resolve().as_uri() + "/"


def render_to_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render ``template_name`` with ``context`` to PDF bytes in the active language.

    Callers authorise and audit before calling; this only draws. Raises PDFRenderingError.
    """
    try:
        html = render_to_string(template_name, context, request=request)
    except Exception as exc:
        raise PDFRenderingError(f"Template {template_name} could not be rendered: {exc}") from exc
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango or its libraries are missing
        raise PDFRenderingError(f"WeasyPrint is not available: {exc}") from exc
    options = {key: value for key, value in PDF_OPTIONS.items() if key in weasyprint.DEFAULT_OPTIONS}
    document = weasyprint.HTML(string=html, base_url=_base_url(), url_fetcher=_fetcher())
    try:
        pdf = document.write_pdf(**options)
    except Exception as first_error:
        if not options:
            raise PDFRenderingError(f"WeasyPrint failed on {template_name}: {first_error}") from first_error
        # Tagged PDF/UA is experimental in WeasyPrint: an untagged PDF is better than none.
        log.warning("Tagged PDF of %s failed (%s); writing it untagged", template_name, first_error)
        try:
            pdf = document.write_pdf()
        except Exception as exc:
            raise PDFRenderingError(f"WeasyPrint failed on {template_name}: {exc}") from exc
    if not pdf:
        raise PDFRenderingError(f"WeasyPrint returned an empty document for {template_name}")
    return pdf
