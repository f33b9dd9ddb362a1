"""Every exception a user of suoja can see, with the exit code the CLI gives it."""

from __future__ import annotations

SHOWN_CHARACTERS = 60
"""At most this many characters of a user's value appear in a message."""


def clip(value: str, limit: int = SHOWN_CHARACTERS) -> str:
    """A value quoted for a message, cut to ``limit`` characters.

    Example:
        >>> clip("Kainuu")
        "'Kainuu'"
        >>> clip("x" * 100, 5)
        "'xxxxx…' (100 characters)"
    """
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit] + '…'!r} ({len(value)} characters)"


class SuojaError(Exception):
    """A problem the user can fix. The CLI shows the message without a traceback."""

    exit_code = 2


class UsageError(SuojaError):
    """Bad arguments: a missing folder, an unknown year, an output that exists."""


class PolicyError(SuojaError):
    """The disclosure policy file is malformed or names an unknown setting."""


class CatalogueError(SuojaError):
    """The table catalogue is malformed or inconsistent with the code lists."""


class RegisterError(SuojaError):
    """The register extract breaks the data contract; every problem is listed."""

    def __init__(self, source: str, problems: list[str], more: int = 0) -> None:
        self.source = source
        self.problems = problems
        self.more = more
        tail = f"\n  ... and {more} more problem(s)" if more else ""
        total = len(problems) + more
        super().__init__(
            f"{source}: {total} problem(s)\n" + "\n".join(f"  - {p}" for p in problems) + tail
        )


class ReleaseRefused(SuojaError):
    """The release is refused: the audit found a disclosure or the privacy budget is spent."""

    exit_code = 3


class SolverLimitError(ReleaseRefused):
    """A solver reached its time or work limit before it could prove the protection safe."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}; the release is refused rather than published unproven. Raise the solver's "
            "time limit, or make the tables smaller (fewer categories), and try again")


class InternalError(AssertionError):
    """A bug in suoja, never the user's fault."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}\nThis is a bug in suoja; please report it.")
