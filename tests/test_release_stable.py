"""The embedded register's 2025 release stays byte for byte the same (``open/*.csv``).

``tests/golden/release/open_csv.sha256`` holds the SHA-256 of every CSV under ``open/``;
it was first written from the release of the code before the package-a-stage layout
(issue 16), and is rewritten only by an explicit ``pytest --update-golden``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden" / "release" / "open_csv.sha256"


def _digests(open_dir: Path) -> str:
    return "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                   for p in sorted(open_dir.glob("*.csv")))


def test_open_csvs_are_byte_identical(embedded_release, update_golden: bool) -> None:
    found = _digests(embedded_release.target / "open")
    if update_golden:
        GOLDEN.write_text(found, encoding="utf-8")
    assert GOLDEN.is_file(), f"no golden file {GOLDEN}; run pytest --update-golden"
    expected = GOLDEN.read_text(encoding="utf-8")
    assert found.count("\n") == expected.count("\n") > 10
    assert found == expected
