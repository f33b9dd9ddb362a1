"""Synthetic register extracts: the embedded register (``embedded``) and registers of any
size (``_scale``). Imports nothing of the stages; only the CLI and tests use it."""

from suoja.synth._parts import write_scaled_parts
from suoja.synth._scale import scaled_register
from suoja.synth.embedded import (
    SEED,
    TABLES,
    embedded_register,
    write_embedded_register,
    write_register,
)

__all__ = [
    "SEED",
    "TABLES",
    "embedded_register",
    "scaled_register",
    "write_embedded_register",
    "write_register",
    "write_scaled_parts",
]
