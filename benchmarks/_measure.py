"""Run one step of a benchmark in a fresh interpreter: wall time and peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = """
import json, resource, sys, time
sys.path.insert(0, "benchmarks")
started = time.perf_counter()
{code}
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print("__MEASURE__" + json.dumps({{"seconds": elapsed, "peak_bytes": peak}}))
"""


def measure(code: str, *, setup: str = "") -> dict[str, float]:
    """Time ``code`` (after untimed ``setup``) in a new Python process; peak RSS of it all."""
    body = textwrap.dedent(setup) + "\nstarted = time.perf_counter()\n" + textwrap.dedent(code)
    script = CHILD.format(code=body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    line = next(x for x in done.stdout.splitlines() if x.startswith("__MEASURE__"))
    return json.loads(line.removeprefix("__MEASURE__"))


def gib(n: float) -> str:
    """Bytes as GiB with two decimals."""
    return f"{n / 2**30:.2f} GiB"
