"""The review in a real headless browser (Debian's chromium) and as PDF (WeasyPrint).

The browser loads each page from disk: no console errors, every chart loaded and drawn
with a size, and a full-page screenshot kept under ``test-artifacts/``. The PDFs are read
back with pypdf: one per language, several pages, the headline figures in local format.
chromium and chromium-driver come from ``.ci/system-packages``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from test_review import release, review_dir  # noqa: F401

from suoja.protect.protected import ProtectedRelease
from suoja.review import LANGUAGES, write_review

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMEDRIVER = Path(shutil.which("chromedriver") or "/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900")
IMAGES = """return Array.from(document.images).map(i => {
  const box = i.getBoundingClientRect();
  return {src: i.getAttribute('src'), complete: i.complete, natural: i.naturalWidth,
          width: box.width, height: box.height, alt: i.alt};
});"""


@pytest.fixture(scope="module")
def browser():
    """Headless chromium driven through chromedriver, with a fresh profile."""
    from selenium import webdriver  # declared in the test extra: never skipped
    from selenium.webdriver.chrome.service import Service

    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail("chromium and chromium-driver are missing: run .ci/system-packages")
    profile = tempfile.mkdtemp(prefix="suoja-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_review_loads_in_a_real_browser(browser, review_dir, lang):  # noqa: F811
    page = review_dir / f"review.{lang}.html"
    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.execute_script("return document.documentElement.lang") == lang
    assert browser.title
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    images = browser.execute_script(IMAGES)
    assert len(images) == 9
    for image in images:
        assert image["complete"] and image["natural"] > 0, image["src"]
        assert image["width"] > 200 and image["height"] > 50, image["src"]
        assert image["alt"], image["src"]
    charts = browser.find_elements("css selector", "figure.chart img")
    assert charts and all(c.is_displayed() for c in charts)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1200, min(int(height) + 100, 30000))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"review-{lang}.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    browser.set_window_size(1200, 900)


@pytest.mark.slow
@pytest.mark.real_pdf
def test_review_as_pdf(release: ProtectedRelease, tmp_path):  # noqa: F811
    import pypdf  # declared in the test extra: never skipped
    paths = write_review(release, tmp_path)
    expected = {"fi": ("1\u00a0634", "Muut maat"), "sv": ("1\u00a0634", "Övriga länder"),
                "en": ("1,634", "Other countries")}
    for lang in LANGUAGES:
        pdf = tmp_path / f"review.{lang}.pdf"
        assert pdf in paths
        assert pdf.read_bytes().startswith(b"%PDF-")
        reader = pypdf.PdfReader(pdf)
        assert len(reader.pages) >= 4
        text = " ".join(p.extract_text() for p in reader.pages)
        flat = " ".join(text.split())
        thousands, other = expected[lang]
        assert thousands.replace("\u00a0", " ") in flat.replace("\u00a0", " ")
        assert other in flat
        assert release.catalogue.title[lang] in flat
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "review.en.pdf", ARTIFACTS / "review-en.pdf")
