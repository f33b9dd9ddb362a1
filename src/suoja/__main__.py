"""``python -m suoja``."""

from suoja.cli import main

main()
