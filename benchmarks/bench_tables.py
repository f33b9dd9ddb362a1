"""Benchmark (issue 3): every table of the catalogue from a register of 10 million persons.

suoja (Polars, lazy, one pass per population) against a straightforward pandas
implementation of the same tables, run in the same script on the same Parquet files;
wall time and peak memory of each in a fresh process. Targets: suoja at least 5 times
faster than pandas and at most 4 GiB peak.
Run: .venv/bin/python benchmarks/bench_tables.py [--persons N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _measure import gib, measure

SUOJA = """
import polars as pl
from pathlib import Path
from suoja.tables.catalogue import read_catalogue
from suoja.register import SCHEMAS
from suoja.tables import compute_cubes, compute_tables
folder = Path({folder!r})
frames = {{n: pl.scan_parquet(folder / f"{{n}}.parquet") for n in SCHEMAS}}
catalogue = read_catalogue()
tables = compute_tables(compute_cubes(frames, catalogue, 2025), catalogue, 2025)
pl.DataFrame([(k, int(v["value"].sum())) for k, v in tables.items()], orient="row",
             schema=["table", "sum"]).write_csv({out!r})
"""

PANDAS = """
from pathlib import Path
import pandas as pd
from pandas_tables import all_tables
from suoja.tables.catalogue import read_catalogue
tables = all_tables(Path({folder!r}), read_catalogue(), 2025)
pd.DataFrame([(k, int(v["value"].sum())) for k, v in tables.items()],
             columns=["table", "sum"]).to_csv({out!r}, index=False)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=10_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "register"
        made = measure(f"""
from pathlib import Path
from suoja.synth import scaled_register, write_register
write_register(scaled_register({args.persons}, seed=2), Path({str(folder)!r}), fmt="parquet")
""")
        print(f"register of {args.persons:,} persons written in {made['seconds']:.0f} s")
        ours = measure(SUOJA.format(folder=str(folder), out=f"{tmp}/suoja.csv"))
        theirs = measure(PANDAS.format(folder=str(folder), out=f"{tmp}/pandas.csv"))
        same = Path(f"{tmp}/suoja.csv").read_text() == Path(f"{tmp}/pandas.csv").read_text()
    print(f"{'implementation':<16}{'wall time':>12}{'peak memory':>14}")
    print(f"{'suoja (Polars)':<16}{ours['seconds']:>10.1f} s{gib(ours['peak_bytes']):>14}")
    print(f"{'pandas':<16}{theirs['seconds']:>10.1f} s{gib(theirs['peak_bytes']):>14}")
    print(f"speed-up {theirs['seconds'] / ours['seconds']:.1f}x (target >= 5x); "
          f"suoja peak {gib(ours['peak_bytes'])} (target <= 4 GiB); "
          f"same table sums: {same}")


if __name__ == "__main__":
    main()
