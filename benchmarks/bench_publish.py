"""The whole ``suoja publish`` on large synthetic registers (not a test): one table of figures.

For each scale (persons; default 100 000, 1 000 000 and 10 000 000) it writes a register
with ``suoja synth --scale N --format parquet`` into ``--data/N`` (kept between runs),
then runs ``suoja publish 2024`` and ``suoja publish 2025`` into ``--data/out-N``, each in
a child process of its own. The stages come from publish's own progress lines on stderr
(``[  12.3 s] Joint audit (round 1)``); the peak memory is the child's maximum RSS.

Stages: read (read and validate the register), earlier (read earlier releases), tables
(cubes, pooling, margins), protect (primary and secondary suppression, every round; the
optimal method's search for the least-cost pattern of the release, its audits included),
audit (the joint audit, every round, and choosing more cells to hide), bound (the proven
lower bound of the loss, ``restricted/bound.csv``), write (open/ and restricted/), review
(the outsider audit of open/ and the review pages).

    python benchmarks/bench_publish.py                    # 100 000, 1 000 000, 10 000 000
    python benchmarks/bench_publish.py 100000 1000000     # the scales given
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

RESULTS = Path(__file__).parent / "results" / "bench_publish.txt"
SRC = Path(__file__).resolve().parent.parent / "src"
STAGES = ("read", "earlier", "tables", "protect", "audit", "bound", "write", "review")
LINE = re.compile(r"^\[\s*([0-9.]+) s\] (.*)$", re.MULTILINE)


def stage_of(message: str) -> str:
    """The benchmark's stage of one progress line of ``suoja publish``."""
    prefixes = (("Reading and validating", "read"), ("Computing and protecting", "earlier"),
                ("Computing the tables", "tables"), ("Protecting the tables", "protect"),
                ("Joint audit", "audit"), ("Choosing more cells", "audit"),
                ("Publishing the secondary", "protect"), ("Lower bound", "bound"),
                ("Searching the least-cost", "protect"), ("Hiding the least-cost", "protect"),
                ("Writing the release", "write"), ("Auditing open/", "review"),
                ("Writing the review", "review"))
    return next((stage for prefix, stage in prefixes if message.startswith(prefix)), "other")


def stage_seconds(stderr: str, total: float) -> dict[str, float]:
    """Seconds per stage: from each progress line to the next (the last one to the end)."""
    marks = [(float(m[1]), stage_of(m[2])) for m in map(LINE.match, stderr.splitlines()) if m]
    seconds = dict.fromkeys(STAGES, 0.0)
    for (start, stage), end in zip(marks, [t for t, _ in marks[1:]] + [total], strict=True):
        seconds[stage] = seconds.get(stage, 0.0) + max(0.0, end - start)
    return seconds


def suoja(*args: str, timeout: float) -> tuple[int, str, float, float, int, dict[str, int]]:
    """Run ``python -m suoja ARGS`` in a child: exit code (-1 if stopped at ``timeout``),
    its stderr and stdout, wall seconds, CPU seconds, the child's own peak RSS in bytes and
    the peak RSS sampled (every 0.1 s, psutil) in each stage of its progress lines."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.perf_counter()
    peaks: dict[str, int] = {}
    with tempfile.NamedTemporaryFile("w+") as log:
        child = subprocess.Popen([sys.executable, "-m", "suoja", *args], stdout=log,
                                 stderr=subprocess.STDOUT, text=True, env=env)
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        sampler = threading.Thread(target=_sample, args=(child.pid, log.name, peaks), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        timer.cancel()
        sampler.join(timeout=5)
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    seconds = time.perf_counter() - started
    code = -1 if child.returncode == -9 else child.returncode
    return code, text, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, peaks


def _sample(pid: int, log: str, peaks: dict[str, int]) -> None:
    """Record the child's RSS per stage (the stage of its last progress line) until it ends."""
    try:
        process = psutil.Process(pid)
        while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            rss = process.memory_info().rss
            marks = LINE.findall(Path(log).read_text(encoding="utf-8", errors="replace"))
            stage = stage_of(marks[-1][1]) if marks else "read"
            peaks[stage] = max(peaks.get(stage, 0), rss)
            time.sleep(0.1)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
        return


def synth(scale: int, data: Path) -> Path:
    """The register of ``scale`` persons, written once."""
    folder = data / str(scale)
    if not (folder / "persons.parquet").exists():
        code, err, *_ = suoja("synth", "--scale", str(scale), "--out", str(folder),
                                "--format", "parquet", "--force", timeout=3600)
        if code != 0:
            raise SystemExit(f"synth --scale {scale} failed:\n{err}")
    return folder


def run(scale: int, data: Path, timeout: float) -> list[list[str]]:
    """Publish 2024 and then 2025 from the register of ``scale``; one row per year."""
    register = synth(scale, data)
    out = data / f"out-{scale}"
    rows = []
    for year in (2024, 2025):
        code, err, seconds, cpu, peak, peaks = suoja(
            "publish", str(year), "--register", str(register), "--out", str(out), "--force",
            timeout=timeout)
        stages = stage_seconds(err, seconds)
        rounds = len(re.findall(r"Joint audit \(round", err))
        last = [x for x in err.splitlines() if x.strip()][-1:] or [""]
        note = "ok" if code == 0 else f"exit {code}: {last[0][:100]}"
        if code == -1:
            note = f"stopped after {timeout:g} s"
        rows.append([f"{scale:,}", str(year), f"{seconds:.1f}", f"{cpu:.1f}",
                     *[f"{stages[s]:.1f}" for s in STAGES], str(rounds),
                     f"{peak / 2**30:.2f}",
                     " ".join(f"{s} {peaks[s] / 2**30:.2f}" for s in STAGES if s in peaks), note])
        print(" | ".join(rows[-1]), flush=True)
        if code != 0:
            print(err[-3000:], file=sys.stderr)
    return rows


def main() -> None:
    """Run the scales given and write the table to ``benchmarks/results``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scales", nargs="*", type=int, default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--data", type=Path, default=Path("/tmp/scale"),
                        help="Folder for the registers and releases (never the repository).")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="Seconds one publish may take before it is stopped.")
    args = parser.parse_args()
    header = ["persons", "year", "total s", "CPU s", *[f"{s} s" for s in STAGES], "audit rounds",
              "peak RSS GiB",
              "peak RSS per stage GiB", "result"]
    print(" | ".join(header), flush=True)
    rows = [row for scale in sorted(args.scales) for row in run(scale, args.data, args.timeout)]
    RESULTS.parent.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    text = [f"# python benchmarks/bench_publish.py {' '.join(map(str, args.scales))}, "
            f"{stamp} UTC, {os.cpu_count()} shared cores", " | ".join(header)]
    text += [" | ".join(r) for r in rows]
    million = [r for r in rows if r[0] == f"{1_000_000:,}" and r[-1] == "ok"]
    if million:
        worst = max(float(r[2]) for r in million)
        text.append(f"\nTarget (issue 13): publish on 1 000 000 persons under 120 s end to end: "
                    f"{'met' if worst < 120 else 'NOT met'} (slowest year {worst:.1f} s)")
    text.append("\nStages (wall seconds) from publish's progress lines; CPU s is the child's "
                "user + system time (the machine is shared: wall time beyond it is waiting); "
                "peak RSS is the child's maximum resident set size.")
    RESULTS.write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
