"""Optional differential privacy: noisy, consistent, non-negative integer tables.

Chosen in the policy (``[privacy] mode = "dp"`` and a ``[dp]`` table, see
``policies/dp.toml``); the default stays suppression. Modules:

* ``settings``: the policy's ``[dp]`` table (:func:`parse_dp_settings`).
* ``mechanism``: contribution bounds, counting, OpenDP measurements and the budget split.
* ``postprocess``: consistent non-negative integer tables (GLS, NNLS, rounding).
* ``engine``: :func:`dp_protect_release`, the DP counterpart of ``protect_release``.
* ``ledger``: the append-only, hash-chained privacy budget ledger and the yearly cap.
* ``notes``: the methods note and status texts in Finnish, Swedish and English.
"""

from suoja.dp.engine import DPPlan, dp_protect_release, plan_release, release_figures
from suoja.dp.ledger import check_and_append, spent, verify_ledger
from suoja.dp.notes import error_note, jsonstat_extension, methods_note, status_text
from suoja.dp.settings import DPSettings, parse_dp_settings

__all__ = [
    "DPPlan",
    "DPSettings",
    "check_and_append",
    "dp_protect_release",
    "error_note",
    "jsonstat_extension",
    "methods_note",
    "parse_dp_settings",
    "plan_release",
    "release_figures",
    "spent",
    "status_text",
    "verify_ledger",
]
