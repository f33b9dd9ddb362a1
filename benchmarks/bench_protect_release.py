"""Benchmark (issue 4): protect and audit the embedded 2025 release (target under 10 s).

Prints the time of protection (pooling, primary and secondary suppression of every
population, implicit cells included) and of the independent audit from open/, with the
numbers of primary and secondary suppressions and the hidden total.
Run: .venv/bin/python benchmarks/bench_protect_release.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import polars as pl

from suoja.pipeline import protect_release
from suoja.policy import read_policy
from suoja.protect.release_audit import audit_open
from suoja.register import read_register
from suoja.release.write import write_open
from suoja.tables.catalogue import read_catalogue

REGISTER = Path(__file__).resolve().parents[1] / "data" / "register"


def main() -> None:
    catalogue, policy = read_catalogue(), read_policy()
    frames = read_register(REGISTER).frames
    started = time.perf_counter()
    release = protect_release(frames, 2025, catalogue, policy)
    protected = time.perf_counter() - started
    log = release.restricted.log
    with tempfile.TemporaryDirectory() as tmp:
        write_open(release, Path(tmp) / "open")
        started = time.perf_counter()
        found = audit_open(Path(tmp) / "open", catalogue, policy)
        audited = time.perf_counter() - started
    rules = log.group_by("rule").agg(pl.len(), pl.col("original").sum()).sort("rule")
    cells = sum(t.height for t in release.tables.values())
    print(f"embedded 2025 release: {len(release.tables)} tables, {cells} cells")
    for rule, n, total in rules.iter_rows():
        print(f"  {rule:<10} {n:>4} cells, {total:>5} units")
    hidden = log.filter(pl.col("rule") != "pooled")
    print(f"  hidden total: {hidden['original'].sum()} units in {hidden.height} cells")
    print(f"protect {protected:.2f} s, audit {audited:.2f} s ({found.height} hidden or derived "
          f"cells, {found.filter(~pl.col('ok')).height} disclosed); "
          f"together {protected + audited:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
