"""Benchmark (issue 2): validate a register of one million persons.

Target: at most 5 seconds and 2 GiB peak memory on a 2-core machine.
Run: .venv/bin/python benchmarks/bench_validate.py [--persons N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _measure import gib, measure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--format", default="parquet", choices=["csv", "parquet"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "register"
        made = measure(f"""
from pathlib import Path
from suoja.synth import scaled_register, write_register
write_register(scaled_register({args.persons}, seed=1), Path({str(folder)!r}), fmt={args.format!r})
""")
        rows = {p.stem: p.stat().st_size for p in folder.iterdir()}
        print(f"synth --scale {args.persons:,}: {made['seconds']:.1f} s, files {sum(rows.values()) / 2**20:.0f} MiB")
        result = measure(f"""
from pathlib import Path
from suoja.register import read_register
register = read_register(Path({str(folder)!r}))
print(register.row_counts)
""")
        print(f"validate {args.persons:,} persons ({args.format}): {result['seconds']:.2f} s, "
              f"peak {gib(result['peak_bytes'])} (targets: 5 s, 2 GiB)")


if __name__ == "__main__":
    main()
