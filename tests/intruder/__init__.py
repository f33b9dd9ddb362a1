"""An independent intruder for the tests: shares no code with suoja (never import it here).

``attack(release_dir, catalogue_path, policy_path, previous_dirs)`` returns one
:class:`Finding` per hidden cell, pooled code and complement cell of every year given, with
the exact integer range an outsider can compute (OR-Tools CP-SAT) from the published cells,
the catalogue's tables and declared facts, the pooling rule and earlier releases, and whether
it passes the disclosure rule. Modules: ``spec`` reads the inputs, ``cube`` holds one
population-year as integer tables joined along a junction tree, ``model`` states the rules
and solves. Its own checks are in tests/test_intruder.py (brute force on tiny releases);
tests/test_intruder_release.py attacks suoja's releases (slow).

Until suoja's catalogue accepts ``[[facts]]``, the facts live in ``facts.toml`` and
:func:`catalogue_with_facts` appends them to a copy of the catalogue.
"""

from .model import Finding, Intruder, attack
from .spec import catalogue_with_facts

__all__ = ["Finding", "Intruder", "attack", "catalogue_with_facts"]
