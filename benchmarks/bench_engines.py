"""Benchmark (issue 17): each population's cube from registers of N persons, per engine.

For each N a register is made with ``suoja synth --scale N --parts K --format parquet``:
partitioned Parquet (a folder of parts per entity, as a warehouse or Spark writes a
table), made one part at a time so that registers larger than memory can be made. Then,
each in a fresh process: the cubes by Polars (lazy scans of the parts, in memory; stopped
and reported as not fitting when its RSS passes ``--polars-limit``), by DuckDB (out of
core, ``SUOJA_DUCKDB_MEMORY_LIMIT``, default 3GB here) and by Spark (``local[*]``); wall
time and peak memory (RSS of the process and its children, sampled: Spark's JVM
included). The cubes of every engine are compared with Polars'. Last, ``publish --cube``
from the largest register's DuckDB cubes. The table is printed and saved to
benchmarks/results/.

    python benchmarks/bench_engines.py --persons 1000000 10000000 --spark-max 1000000
    python benchmarks/bench_engines.py --persons 50000000 100000000 --engines duckdb polars \
        --append --tmp /big/tmp
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import polars as pl
import psutil

RESULTS = Path(__file__).parent / "results" / "bench_engines.txt"
YEAR = 2025

MAKE = """
from pathlib import Path
from suoja.synth import write_scaled_parts
write_scaled_parts({n}, Path({parts!r}), parts={k}, seed=7)
"""

POLARS = """
from pathlib import Path
import polars as pl
from suoja.tables.catalogue import read_catalogue
from suoja.register.reader import SCHEMAS
from suoja.tables import compute_cubes
folder = Path({folder!r})
frames = {{n: pl.scan_parquet(folder / n / "*.parquet") for n in SCHEMAS}}
cubes = compute_cubes(frames, read_catalogue(), {year})
"""

ENGINE = """
from pathlib import Path
from suoja.tables.catalogue import read_catalogue
from suoja.tables.engines import register_cubes
cubes = register_cubes(Path({folder!r}), read_catalogue(), {year}, {engine!r})
"""

SAVE = """
out = Path({out!r})
out.mkdir(parents=True, exist_ok=True)
for name, cube in cubes.items():
    cube.finest.write_parquet(out / f"{{name}}.parquet")
"""

WRITE_CUBES = """
from suoja.tables.engines.cube_set import CubeSet, write_cubes
write_cubes(CubeSet({year}, cubes, "bench", tuple(range(2006, 2026)), {engine!r}),
            Path({cube_dir!r}), read_catalogue())
"""

PUBLISH = """
from pathlib import Path
from suoja.tables.engines.load import CubeFolder
from suoja.pipeline import publish
publish({year}, Path("unused"), Path({out!r}), cubes=CubeFolder(Path({cube_dir!r})))
"""


def run(code: str, limit: float = float("inf")) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter: wall time and peak RSS of it and its children.

    Raises:
        MemoryError: the RSS passed ``limit`` bytes; the child was stopped there.
        RuntimeError: the child failed.
    """
    script = textwrap.dedent(code)
    started = time.perf_counter()
    # The child's output goes to a file: Spark logs a lot, and a full pipe nobody reads
    # would stop the child (a 100 M DuckDB run once waited 13 minutes on its progress bar).
    output = tempfile.TemporaryFile(mode="w+")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=output,
                             stderr=subprocess.STDOUT, text=True)
    peak = 0
    proc = psutil.Process(child.pid)
    while child.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        if peak > limit:
            for c in proc.children(recursive=True):
                c.kill()
            child.kill()
            child.wait()
            raise MemoryError(f"stopped at {peak / 2**30:.1f} GiB after "
                              f"{time.perf_counter() - started:.0f} s (limit {limit / 2**30:g})")
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    child.wait()
    output.seek(0)
    err = output.read()
    output.close()
    if child.returncode != 0:
        raise RuntimeError(err[-3000:])
    return {"seconds": seconds, "peak_bytes": peak}


def same_cubes(a: Path, b: Path) -> bool:
    """Whether two folders of cubes hold the same frames."""
    names = sorted(p.name for p in a.glob("*.parquet"))
    return names == sorted(p.name for p in b.glob("*.parquet")) and all(
        pl.read_parquet(a / n).equals(pl.read_parquet(b / n)) for n in names)


def gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def bench(n: int, engines: list[str], tmp: Path, lines: list[str], publish: bool,
          limit: float) -> None:
    parts = tmp / f"p{n}"
    k = max(8, n // 2_000_000)
    made = run(MAKE.format(n=n, parts=str(parts), k=k))
    size = sum(p.stat().st_size for p in parts.rglob("*.parquet"))
    persons = pl.scan_parquet(parts / "persons" / "*.parquet").select(pl.len()).collect().item()
    lines.append(f"register {n:,} (persons {persons:,}; partitioned Parquet, {k} parts, "
                 f"{size / 2**20:.0f} MiB), made in {made['seconds']:.0f} s "
                 "(suoja synth --scale N --parts K)")
    print(lines[-1], flush=True)
    for engine in engines:
        out = tmp / f"cubes-{engine}-{n}"
        if engine == "polars":
            code = POLARS.format(folder=str(parts), year=YEAR)
        else:
            code = ENGINE.format(folder=str(parts), year=YEAR, engine=engine)
        code += SAVE.format(out=str(out))
        if publish and engine == "duckdb":
            code += WRITE_CUBES.format(year=YEAR, engine=engine, cube_dir=str(tmp / "cubedir"))
        try:
            m = run(code, limit if engine == "polars" else float("inf"))
        except MemoryError as e:
            lines.append(f"  {engine:<8} does not fit: {e}")
            print(lines[-1], flush=True)
            continue
        except RuntimeError as e:
            lines.append(f"  {engine:<8} failed: {str(e).strip().splitlines()[-1]}")
            continue
        # Compared with Polars' cubes; where Polars did not fit, with DuckDB's.
        ref = next((e for e in ("polars", "duckdb") if e != engine
                    and (tmp / f"cubes-{e}-{n}").exists()), None)
        same = "(the reference)" if ref is None and engine == "polars" else \
            "no other engine's cubes to compare" if ref is None else \
            same_cubes(out, tmp / f"cubes-{ref}-{n}")
        lines.append(f"  {engine:<8}{m['seconds']:>9.1f} s{gib(m['peak_bytes']):>12}"
                     f"   cubes equal to {(ref or engine).capitalize()}'s: {same}")
        if engine == "duckdb" and n >= 100_000_000:
            met = "met" if m["peak_bytes"] < 4 * 2**30 else "NOT met"
            lines.append(f"  target (issue 17): {n:,} persons through DuckDB under 4 GiB "
                         f"peak: {met} ({gib(m['peak_bytes'])})")
        print(lines[-1], flush=True)
    if publish and (tmp / "cubedir").exists():
        m = run(PUBLISH.format(year=YEAR, out=str(tmp / "release"),
                               cube_dir=str(tmp / "cubedir")))
        lines.append(f"  publish --cube (DuckDB's cubes): {m['seconds']:.1f} s, "
                     f"{gib(m['peak_bytes'])}")
        print(lines[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["polars", "duckdb", "spark"])
    parser.add_argument("--spark-max", type=int, default=1_000_000,
                        help="Largest register Spark runs on (local[*] on 2 cores is slow).")
    parser.add_argument("--polars-limit", type=float, default=20.0,
                        help="GiB of RSS at which the in-memory Polars run is stopped and "
                             "reported as not fitting (the machine has 24).")
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("--append", action="store_true",
                        help="Add to the saved results instead of replacing them.")
    args = parser.parse_args()
    os.environ.setdefault("SUOJA_DUCKDB_MEMORY_LIMIT", "3GB")
    lines = [f"bench_engines: cubes of {YEAR} per engine ({os.cpu_count()} cores, "
             f"{psutil.virtual_memory().total / 2**30:.0f} GiB; DuckDB memory_limit "
             f"{os.environ['SUOJA_DUCKDB_MEMORY_LIMIT']})",
             f"  {'engine':<8}{'wall':>11}{'peak RSS':>12}"]
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for n in args.persons:
            engines = [e for e in args.engines if e != "spark" or n <= args.spark_max]
            bench(n, engines, Path(tmp), lines, publish=n == max(args.persons),
                  limit=args.polars_limit * 2**30)
            print("\n".join(lines), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    before = RESULTS.read_text(encoding="utf-8") if args.append and RESULTS.exists() else ""
    RESULTS.write_text(before + "\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({"saved": str(RESULTS)}))


if __name__ == "__main__":
    main()
