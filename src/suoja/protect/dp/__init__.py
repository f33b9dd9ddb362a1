"""Optional differential privacy: noisy, consistent, non-negative integer tables.

Chosen in the policy (``[privacy] mode = "dp"`` and a ``[dp]`` table, see
``policies/dp.toml``); the default stays suppression. Modules:

* ``settings``: the policy's ``[dp]`` table (:func:`parse_dp_settings`).
* ``mechanism``: contribution bounds, counting, OpenDP measurements and the budget split.
* ``postprocess``: consistent non-negative integer tables (GLS, NNLS, rounding).
* ``engine``: :func:`~suoja.protect.dp.engine.dp_protect_release`, the DP counterpart of
  ``protect_release`` (import it from ``suoja.protect.dp.engine``: this package's
  ``__init__`` stays light, as ``suoja.policy`` reads its settings).
* ``ledger``: the append-only, hash-chained privacy budget ledger and the yearly cap.
* ``notes``: the methods note and status texts in Finnish, Swedish and English.
"""

from suoja.protect.dp.ledger import check_and_append, spent, verify_ledger
from suoja.protect.dp.notes import error_note, jsonstat_extension, methods_note, status_text
from suoja.protect.dp.settings import DPSettings, parse_dp_settings

__all__ = [
    "DPSettings",
    "check_and_append",
    "error_note",
    "jsonstat_extension",
    "methods_note",
    "parse_dp_settings",
    "spent",
    "status_text",
    "verify_ledger",
]
