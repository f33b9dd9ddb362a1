"""The review as PDF: the HTML page printed by WeasyPrint, charts and all."""

from __future__ import annotations

import logging
from pathlib import Path

from suoja.errors import SuojaError


def write_pdf(page: Path) -> Path:
    """Print ``review.LANG.html`` (its charts beside it) to ``review.LANG.pdf``."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except (ImportError, OSError) as e:  # OSError: the Pango libraries are missing
        raise SuojaError(
            "The PDF review needs WeasyPrint and its system libraries: pip install weasyprint, "
            f"and the Debian packages in .ci/system-packages ({e})") from None
    # WeasyPrint reports unsupported CSS at WARNING level; the review's CSS is for browsers too.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    target = page.with_suffix(".pdf")
    HTML(filename=str(page), base_url=str(page.parent)).write_pdf(target)
    return target
