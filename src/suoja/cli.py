"""The ``suoja`` command: a thin Typer layer over the library.

Exit codes: 0 success; 1 a bug (traceback, please report); 2 input the user must fix;
3 the release is refused (the audit found a disclosure, the privacy budget is spent).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from suoja.errors import SuojaError

app = typer.Typer(
    help="suoja: publish statistics about vulnerable people without exposing any of them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DebugOption = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@contextmanager
def user_errors(debug: bool = False) -> Iterator[None]:
    """Show library errors as 'Error: ...' on stderr with their documented exit code."""
    try:
        yield
    except SuojaError as e:
        if debug:
            traceback.print_exc()
        typer.echo(f"Error: {e}", err=True)
        raise typer.Exit(code=e.exit_code) from None


def default_register() -> Path:
    """The embedded register shipped with suoja."""
    from suoja._resources import data_dir

    return data_dir() / "register"


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="Folder of the register extract.")],
    as_json: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Check a register extract against the data contract; list every problem.

    Example:

        suoja validate data/register
    """
    from suoja.register import read_raw
    from suoja.validate import validate_raw

    with user_errors(debug):
        raw, absent = read_raw(path)
        report = validate_raw(path, raw, absent)
    summary = report.summary()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    elif report.valid:
        rows = ", ".join(f"{name} {n:,}" for name, n in summary["rows"].items())
        years = summary["years"]
        span = f"{years[0]}–{years[1]}" if years else "no dated rows"
        typer.echo(f"{path}: valid. Rows: {rows}. Years covered: {span}.")
    else:
        total = len(report.problems) + report.more
        typer.echo(f"Error: {path}: {total} problem(s)", err=True)
        for problem in report.problems:
            typer.echo(f"  - {problem}", err=True)
        if report.more:
            typer.echo(f"  ... and {report.more} more problem(s)", err=True)
    if not report.valid:
        raise typer.Exit(code=2)


@app.command()
def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the register into.")] = Path(
        "synthetic-register"
    ),
    scale: Annotated[
        int | None, typer.Option(help="Persons in a large random register (for benchmarks).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of --scale.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    force: Annotated[bool, typer.Option(help="Overwrite files in OUT.")] = False,
    debug: DebugOption = False,
) -> None:
    """Write a synthetic register: the embedded one, or a large random one with --scale.

    Example:

        suoja synth --scale 1000000 --out /tmp/big --format parquet
    """
    from suoja import synth as synthesis
    from suoja.errors import UsageError

    with user_errors(debug):
        if fmt not in ("csv", "parquet"):
            raise UsageError(f"--format must be csv or parquet, got {fmt!r}")
        if out.exists() and any(out.iterdir()) and not force:
            raise UsageError(f"{out} exists and is not empty; use --force to overwrite")
        frames = (synthesis.embedded_register() if scale is None
                  else synthesis.scaled_register(scale, seed=seed))
        synthesis.write_register(frames, out, fmt=fmt)
    typer.echo(f"Wrote {', '.join(f'{k} {v.height:,}' for k, v in frames.items())} to {out}")


def main() -> None:
    """Entry point: exit 1 with a traceback and a plea to report on an unexpected error."""
    try:
        app()
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        typer.echo("This is a bug in suoja; please report it with the traceback above.",
                   err=True)
        sys.exit(1)
