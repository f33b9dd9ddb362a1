"""Shared fixtures: a tiny valid register extract written as CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = {
    "persons": [
        "person_id,role,parent_id,sex,birth_year,citizenship",
        "P1,VICTIM,,F,1990,NPL",
        "P2,VICTIM,,M,1985,FIN",
        "P3,CHILD,P1,F,2015,NPL",
        "P4,VICTIM,,M,,XXA",
    ],
    "applications": [
        "application_id,person_id,received,referrer,decision,decided,rejection_reason",
        "A1,P1,2025-01-10,MIGRI,ACCEPTED,2025-02-01,",
        "A2,P2,2025-03-01,SELF,REJECTED,2025-03-20,NO_NEED",
        "A3,P4,2025-04-01,NGO,PENDING,,",
        "A4,P2,2024-05-01,POLICE,ACCEPTED,2024-05-20,",
    ],
    "client_periods": [
        "person_id,start,end,end_reason,residence_status",
        "P1,2025-02-01,,,WORK",
        "P3,2025-02-01,,,WORK",
        "P2,2024-05-20,2025-01-15,NO_NEED,FINNISH_CITIZEN",
    ],
    "exploitation": [
        "event_id,person_id,form,rank,country,sector,identified",
        "E1,P1,FORCED_LABOUR,PRIMARY,FIN,02,2025-02-01",
        "E2,P1,SEXUAL_EXPLOITATION,SECONDARY,NPL,,2025-02-01",
        "E3,P2,FORCED_CRIMINALITY,PRIMARY,FIN,,2024-05-20",
    ],
    "reflection_periods": [
        "person_id,granted,months",
        "P4,2025-04-02,3",
    ],
}


def write_tiny(folder: Path, changes: dict[str, list[str]] | None = None) -> Path:
    """Write the tiny register, with whole files replaced by ``changes``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in {**TINY, **(changes or {})}.items():
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_register(tmp_path: Path) -> Path:
    """A valid register extract of four persons."""
    return write_tiny(tmp_path / "register")


REPO = Path(__file__).resolve().parents[1]
EMBEDDED = REPO / "data" / "register"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/ from the current output.")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def embedded_release(tmp_path_factory: pytest.TempPathFactory):
    """The 2025 release of the embedded register, published once per test session after
    the 2024 one, into the same root: as a statistics office publishes them, in order, so
    that 2025 is protected against 2024 and its review compares with what 2024 published."""
    from suoja.pipeline import publish

    out = tmp_path_factory.mktemp("publish")
    publish(2024, EMBEDDED, out)
    return publish(2025, EMBEDDED, out)


_PLACEHOLDER_PDF: list[bytes] = []


def _placeholder_pdf(page: Path) -> Path:
    """``suoja.review.pdf.write_pdf`` for tests that publish but do not look at the PDFs: a
    valid one-page PDF (WeasyPrint's, of a short page, made once) instead of the review
    printed in full, which is a third of a publish's time."""
    if not _PLACEHOLDER_PDF:
        from weasyprint import HTML  # a declared dependency: never skipped

        _PLACEHOLDER_PDF.append(HTML(string="<p>placeholder</p>").write_pdf())
    target = page.with_suffix(".pdf")
    target.write_bytes(_PLACEHOLDER_PDF[0])
    return target


@pytest.fixture(autouse=True)
def _quick_review_pdf(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishes inside a test print a placeholder PDF (see ``_placeholder_pdf``).

    The real PDFs are still made and checked: by the session's embedded release and every
    module-scoped release (fixtures of a wider scope are set up before this one), by
    ``tests/test_review_pdf.py``, and by tests marked ``real_pdf``. Publishes in a child
    process (``python -m suoja``) are untouched.
    """
    if request.node.get_closest_marker("real_pdf"):
        return
    import suoja.review

    monkeypatch.setattr(suoja.review, "write_pdf", _placeholder_pdf)


@pytest.fixture(autouse=True)
def _private_state_dir(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own state folder, so privacy budget ledgers never leak between tests
    (or into the user's ``~/.local/state/suoja``)."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


_PROTECTED: dict[tuple, object] = {}


def protected_once(frames, year: int, catalogue, policy, compute=None):
    """``protect_release`` (or ``compute``, the real one where it is patched) with no
    earlier release, computed once per worker for the same register (by its fingerprint),
    year, catalogue and policy."""
    from suoja.pipeline import protect_release
    from suoja.register import register_fingerprint

    compute = compute or protect_release

    key = (register_fingerprint(frames), year, catalogue.fingerprint, policy.fingerprint,
           repr(policy))
    if key not in _PROTECTED:
        _PROTECTED[key] = compute(frames, year, catalogue, policy)
    return _PROTECTED[key]


def embedded_alone(year: int = 2025):
    """The embedded register's release of ``year`` protected alone (no earlier release, the
    shipped catalogue and policy), computed once per worker."""
    from suoja.policy import read_policy
    from suoja.register import read_register
    from suoja.tables.catalogue import read_catalogue

    return protected_once(read_register(EMBEDDED).frames, year, read_catalogue(),
                          read_policy())


@pytest.fixture
def protect_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Publishes inside the test take the protected release from ``protected_once`` when
    no earlier release is known (else it is computed). For tests of what ``publish``
    writes and how (atomicity, summaries, refusals), not of protection, which takes most
    of a publish's minute; the tests of protection never use it."""
    import suoja.pipeline as pipeline

    real = pipeline.protect_release

    def cached(frames, year, catalogue, policy, previous=None, progress=None, *,
               cube_set=None):
        if cube_set is not None or previous:
            return real(frames, year, catalogue, policy, previous, progress,
                        cube_set=cube_set)
        return protected_once(frames, year, catalogue, policy, real)

    monkeypatch.setattr(pipeline, "protect_release", cached)
