"""Least loss on the embedded release (not a test): was every secondary suppression needed?

Publishes 2024 and then 2025 of the embedded register into ``--out`` (unless a release is
there already), then runs ``suoja.protect.necessity.unhide_check`` on 2025 and prints one
row per secondary suppression: the first check that fails once the cell is published,
what the outsider (or a singleton's unit) could then narrow, and the seconds it took.
Then, with every check run (``every``), the four secondaries hidden for singleton
protection only, to show that the joint audit alone passes for them; and a copy of the
release with one cell hidden beyond need (finland_forms FORCED_LABOUR F), which must come
out "not needed" after every check, the joint singleton audit included. And the 2024
release's secondaries that checks 1-4 find not needed.

    python benchmarks/bench_necessity.py [--out DIR] [--save]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
RESULTS = ROOT / "benchmarks" / "results" / "bench_necessity.txt"
SINGLETON_ONLY = [("exploitation_forms", "form=FORCED_MARRIAGE;sex=F"),
                  ("finland_forms", "form=OTHER;sex=_T"),
                  ("finland_forms", "form=SEXUAL_EXPLOITATION;sex=F"),
                  ("finland_forms", "form=SEXUAL_EXPLOITATION;sex=_T")]


def _table(frame: pl.DataFrame) -> list[str]:
    lines = ["table | cell | value | verdict | check | seconds | reason"]
    for r in frame.iter_rows(named=True):
        lines.append(f"{r['table']} | {r['cell']} | {r['value']} | {r['verdict']} | "
                     f"{r['check'] or '-'} | {r['seconds']:.1f} | {r['reason']}")
    return lines


def main() -> None:
    from test_necessity import _over_hidden

    from suoja.pipeline import publish
    from suoja.protect.necessity import unhide_check

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--save", action="store_true", help=f"write {RESULTS}")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_necessity_"))
    register = ROOT / "data" / "register"
    lines = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    load = os.getloadavg()[0]
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    say(f"# python benchmarks/bench_necessity.py, {when}, {os.cpu_count()} cores, load "
        f"average {load:.1f} at the start (shared machine, niced)")
    for year in (2024, 2025):
        if not (out / str(year) / "open").is_dir():
            start = time.perf_counter()
            publish(year, register, out)
            say(f"publish {year}: {time.perf_counter() - start:.0f} s")
    release = out / "2025"

    start = time.perf_counter()
    found = unhide_check(release)
    total = time.perf_counter() - start
    needed = found.filter(pl.col("verdict") == "needed").height
    say(f"\n## Every secondary of 2025, first failing check ({total:.1f} s in all)")
    say(f"{found.height} secondaries: {needed} needed, {found.height - needed} not needed; "
        f"first checks: {dict(found['check'].value_counts().iter_rows())}")
    for line in _table(found):
        say(line)

    start = time.perf_counter()
    every = unhide_check(release, cells=SINGLETON_ONLY, every=True, joint_singletons=False)
    say(f"\n## The four hidden for singleton protection: every check but the joint "
        f"singleton audit ({time.perf_counter() - start:.1f} s)")
    for line in _table(every):
        say(line)

    start = time.perf_counter()
    earlier = unhide_check(out / "2024", joint_singletons=False)
    unneeded = earlier.filter(pl.col("verdict") == "not needed")
    say(f"\n## 2024 (no earlier release), checks 1-4 ({time.perf_counter() - start:.1f} s): "
        f"{earlier.height} secondaries, {unneeded.height} not needed")
    for line in _table(unneeded):
        say(line)

    with tempfile.TemporaryDirectory() as tmp:
        copy, cell = _over_hidden(release, Path(tmp), "finland_forms",
                                  {"form": "FORCED_LABOUR", "sex": "F"})
        start = time.perf_counter()
        mutation = unhide_check(copy, cells=[cell])
        say(f"\n## Mutation: finland_forms FORCED_LABOUR F hidden as well, every check "
            f"({time.perf_counter() - start:.1f} s)")
        for line in _table(mutation):
            say(line)
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    if args.save:
        RESULTS.write_text("\n".join(map(redact, lines)) + "\n", encoding="utf-8")


def redact(line: str) -> str:
    """A line for the saved results (in git): the true values of hidden cells blanked.

    The console shows them (the operator is the privacy officer); a file in the
    repository is open, so it holds verdicts and checks, never a protected value.
    """
    if line.count(" | ") >= 6 and not line.startswith("table |"):
        parts = line.split(" | ")
        parts[2] = "·"
        line = " | ".join(parts)
    line = re.sub(r"\((\d+)(, below the threshold)?\)", r"(·\2)", line)
    return re.sub(r"to exactly \d+", "to exactly ·", line)


if __name__ == "__main__":
    main()
