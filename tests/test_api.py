"""The public API: ``suoja.__all__`` and the README's library example, run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import suoja

REPO = Path(__file__).resolve().parents[1]


def _library_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Library use", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1, "the README's 'Library use' section needs one python block"
    return blocks[0]


def test_every_public_name_exists() -> None:
    missing = [name for name in suoja.__all__ if not hasattr(suoja, name)]
    assert missing == []
    for stage in ("read_register", "compute_tables", "protect_release", "audit_release",
                  "write_release", "publish", "protect_frequency_table"):
        assert stage in suoja.__all__, stage


@pytest.mark.slow
def test_the_readme_library_example_runs(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The example reads ``data/register`` and writes ``out/2025`` from the current folder."""
    (tmp_path / "data").symlink_to(REPO / "data")
    monkeypatch.chdir(tmp_path)
    exec(compile(_library_example(), "README.md", "exec"), {})
    assert (tmp_path / "out" / "2025" / "open" / "datapackage.json").is_file()
