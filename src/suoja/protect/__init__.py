"""Suppression of small cells and of every cell that would let one be computed.

``protect`` chooses the pattern (primary cells below the threshold, then secondary cells
until no hidden cell can be computed); ``suoja.protect.audit`` checks any published
pattern independently, from public information only (its functions are not re-exported
here, so that the module keeps its name).
"""

from suoja.protect.generic import protect_frequency_table, read_code_parent_csv, read_hrc
from suoja.protect.model import LinearModel, build_model
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import ProtectionError
from suoja.protect.suppress import protect

__all__ = [
    "LinearModel",
    "ProtectionError",
    "SuppressionRules",
    "build_model",
    "protect",
    "protect_frequency_table",
    "read_code_parent_csv",
    "read_hrc",
]
