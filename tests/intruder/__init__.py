"""An independent intruder for the tests: shares no code with suoja.

``attack(release_dir, catalogue_path, policy_path, previous_dirs)`` returns one
:class:`Finding` per hidden cell, pooled code and complement cell, with the exact integer
range an outsider can compute (CP-SAT) and whether it passes the disclosure rule.
"""

from .model import Finding, Intruder, attack
from .spec import catalogue_with_facts

__all__ = ["Finding", "Intruder", "attack", "catalogue_with_facts"]
