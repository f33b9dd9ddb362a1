"""The optimal method within one population: the cheapest protecting pattern by cut
generation. (A release is protected by the same search over all its populations, with the
release audit inside: ``suoja.protect.joint_bound``; this module serves ``protect`` on a
single table and the populations the joint search leaves to the rounds.)

Fischetti and Salazar-Gonzalez's method, as tau-ARGUS's OPT runs it: a master programme
over the binaries "hide this form" and capacity cuts from the attacker's linear
programme, added round by round until the master's pattern gives every primary its
protection interval (``suoja.protect.bound``). No giant model with a copy of the table
per primary is built. The pattern is then handed to the suppress-attack-add loop, which
adds cells only where integer ranges or singleton protection ask for more than the
linear ranges the cuts see (2-D tables never do: their linear ranges are integral).

The outcome is logged on ``suoja.protect.optimal``: "proven optimal", or the cost, the
proven bound and the gap when a work limit (``NODE_LIMIT`` nodes per master solve,
``suoja.protect.bound.MAX_ROUNDS`` rounds) stopped the search first. Only work limits
decide, so the same input gives the same pattern on any machine; the time limit is a
safety net, and a pattern found after it ran out is not used.
"""

from __future__ import annotations

import logging

import numpy as np

from suoja.protect.bound import lower_bound
from suoja.protect.defend import Defender
from suoja.protect.highs import INF
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import State

NODE_LIMIT = 5_000
"""Branch-and-bound nodes one master solve may explore: a work limit, so that the same
input gives the same pattern on a slow machine."""

LOG = logging.getLogger("suoja.protect.optimal")


def optimal_pattern(defender: Defender, state: State, rules: SuppressionRules) -> bool:
    """Hide the cheapest set of forms that gives every hidden form of ``state`` its
    protection interval against linear ranges; False (nothing hidden) when no such
    pattern was found within the limits.

    Args:
        defender: The model, the costs (``weights``) and which forms may be hidden.
        state: Hidden forms so far (primaries and forced cells, with their ``need``);
            updated in place.
        rules: ``threshold`` and ``interval``.
    """
    targets = state.hidden.copy()
    targets[list(state.free)] = False
    if not targets.any():
        return False
    forms = defender.model.forms
    whole = np.diff(forms.indptr) == forms.shape[1]
    cap = float(defender.x.sum()) if (whole & ~defender.can_hide & ~state.hidden).any() else INF
    found = lower_bound(forms, defender.x, targets, defender.can_hide & ~state.hidden,
                        defender.weights, rules, state.values, cap=cap, need=state.need,
                        singletons=rules.singleton_protection, free=state.free,
                        tie=state.values, nodes=NODE_LIMIT,
                        time_limit=defender.time_limit)
    if found.pattern is None:
        LOG.info("optimal method: no pattern within the limits (%s)", found.reason)
        return False
    if found.proven:
        LOG.info("optimal method: proven optimal, cost %.3f (%d rounds, %d cuts)",
                 found.cost, found.rounds, found.cuts)
    else:
        LOG.info("optimal method: stopped at its work limit (%s), cost %.3f, bound %.3f, "
                 "gap %.1f %%", found.reason, found.cost, found.value, 100 * found.gap)
    state.hidden |= found.pattern
    return True
