"""``python tests/cached_protect.py PICKLE suoja-arguments...``: suoja's command line with
the protected release taken from ``PICKLE`` (a ``ProtectedRelease``) instead of computed.

For tests of the write path in a child process (a publish killed at random moments): the
protection, most of a publish's minute, is then not what the kills land in.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main() -> None:
    path = Path(sys.argv.pop(1))
    release = pickle.loads(path.read_bytes())

    import suoja.pipeline as pipeline

    pipeline.protect_release = lambda *_args, **_kwargs: release
    from suoja.cli import main as cli

    sys.argv[0] = "suoja"
    cli()


if __name__ == "__main__":
    main()
