"""The bilingual (trilingual) statistical review, written from the protected tables only.

``write_review(release, folder)`` writes ``review.fi.html``, ``review.sv.html`` and
``review.en.html``, a PDF of each, and their SVG charts. It reads published values
(``release.tables``, the previous year's too) and never the register or
``release.restricted``: no sentence, percentage or chart can show what the tables hide.

Modules: ``figures`` (published cells, margins, shares, rankings), ``sections`` (what each
section says, in no language), ``messages`` (the catalogues and Babel formats),
``charts`` (matplotlib SVG), ``render`` (Jinja2), ``pdf`` (WeasyPrint).
"""

from __future__ import annotations

from pathlib import Path

from suoja.protect.protected import ProtectedRelease
from suoja.review.messages import LANGUAGES
from suoja.review.pdf import write_pdf
from suoja.review.render import content, write_html

__all__ = ["LANGUAGES", "write_review"]


def write_review(release: ProtectedRelease, folder: Path, *, pdf: bool = True) -> list[Path]:
    """Write the review of ``release`` in every language into ``folder``.

    Returns the files written: per language the SVG charts, the HTML page and (unless
    ``pdf`` is False) its PDF.
    """
    folder.mkdir(parents=True, exist_ok=True)
    what = content(release)
    paths: list[Path] = []
    for lang in LANGUAGES:
        written = write_html(release, what, lang, folder)
        paths += written
        if pdf:
            paths.append(write_pdf(written[-1]))
    return paths
