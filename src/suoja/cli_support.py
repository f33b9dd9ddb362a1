"""What the ``suoja`` commands share: the help format, error handling and stage lines.

Kept apart from ``suoja.cli`` so that commands defined in other modules (``suoja.cli_cube``)
use them without importing the command line itself.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from suoja.errors import SuojaError


class Command(typer.core.TyperCommand):
    """A command whose help names values, not Python types.

    Flags take no value placeholder (``--force``, not ``--force <bool>``) and arguments
    read as in any Unix tool's usage line (``suoja publish [OPTIONS] YEAR``).
    """

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg]
        """The parameters, with flags and arguments given the placeholders above."""
        params = super().get_params(ctx)
        for param in params:
            if param.metavar is not None:
                continue
            if getattr(param, "is_flag", False):
                param.metavar = ""
            elif isinstance(param, typer.core.TyperArgument) and param.name:
                param.metavar = param.name.upper()
        return params

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """``[OPTIONS] YEAR``: arguments by name, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, typer.core.TyperArgument):
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces


DebugOption = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
INTERRUPTED = "Interrupted; nothing was written."
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
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        raise typer.Exit(code=130) from None


def folder_argument(path: Path | None, what: str) -> None:
    """Refuse (exit 2) a file given where a folder is expected, naming what was expected."""
    if path is not None and path.exists() and not path.is_dir():
        from suoja.errors import UsageError

        raise UsageError(f"{path} is a file, but {what} is a folder")


def default_register() -> Path:
    """The embedded register shipped with suoja."""
    from suoja._resources import data_dir

    return data_dir() / "register"


@contextmanager
def stages(console: Console) -> Iterator[Callable[[str], None]]:
    """Report the stages of a long run on stderr: a spinner on a terminal, else one line
    per stage (a log file or a pipe then shows what the run is doing, and when)."""
    if console.is_terminal:
        with console.status("Publishing") as status:
            yield status.update
        return
    started = time.monotonic()

    def line(step: str) -> None:
        typer.echo(f"[{time.monotonic() - started:5.1f} s] {step}", err=True)

    yield line
