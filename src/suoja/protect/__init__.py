"""Suppression of small cells and of every cell that would let one be computed."""

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
]
