"""suoja: publish official statistics about vulnerable people without exposing any of them.

Stages, a module each: ``register`` (read and validate the extract), ``tables`` (the
catalogue and Polars aggregation), ``protect`` (pooling, suppression, audit), ``release``
(open data and the restricted log), ``review`` (the bilingual review); ``pipeline``
runs them in order and ``cli`` is a thin Typer layer over it.
"""

from suoja.errors import (
    CatalogueError,
    InternalError,
    PolicyError,
    RegisterError,
    ReleaseRefused,
    SuojaError,
    UsageError,
)
from suoja.register import read_register
from suoja.register.reader import Register

__version__ = "0.1.0"

__all__ = [
    "CatalogueError",
    "InternalError",
    "PolicyError",
    "Register",
    "RegisterError",
    "ReleaseRefused",
    "SuojaError",
    "UsageError",
    "__version__",
    "read_register",
]
