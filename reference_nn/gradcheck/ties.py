"""Ties: elements with exactly the same value that sit at a kink together (a max pool's tied maxima
on a blank image, duplicated maxout columns), judged as a set.

Each tied element alone lies between its one-sided slopes (moving one of them up raises the max,
moving it down leaves the max to the others), whatever share of the gradient it was given, so an
element-wise check calls every tied element "at a kink", a gradient that gives the full gradient to
every tied maximum included. Moving the whole tie set together (direction 1_S) moves the max by the
same amount: f is smooth along it, and its derivative there is the gradient summed over the set,
for any subgradient (a tie's gradient split in any shares that sum to 1, the first maximum's
convention, or an even split). So, per set S of at-kink or failing elements of equal value:

* f smooth along 1_S (the one-sided slopes along it agree: kinks.is_kink, not a kink) and the
  gradient summed over S outside the derivative along 1_S by more than the summed tolerances plus
  the estimate's bound: FAIL (no subgradient: the sum is what every valid gradient gets right);
* f smooth along 1_S and the sum within it: the set is consistent with a subgradient; its failing
  elements (a convention such as "the first maximum", which can look wrong coordinate by coordinate
  when several samples tie with upstream gradients of both signs) are INCONCLUSIVE at a kink, never
  FAIL;
* f kinked along 1_S too (ReLU units switching as the set moves): nothing is concluded;
* the sum disagrees but the tie does not persist along 1_S (tie_persists: weights that are equal by
  coincidence, each at a ReLU kink, whose move together leaves every kink, with one-sided slopes that
  happen to agree): nothing is concluded either. The sum rule holds for a max over the tied elements
  (the kink moves with them); across kinks that the move leaves, a convention such as relu'(0) = 0
  need not satisfy it (the property test_gradcheck_calls_kink_elements_inconclusive_not_failed found
  a right 3-3-1 ReLU net FAILed that way).

Cost: 6 evaluations per set (7 more for a set whose sum disagrees), at most MAX_SETS sets of at least
2 elements per tensor.
"""

from __future__ import annotations

import numpy as np

from . import tolerances as tol
from .kinks import OneSided, is_kink
from .numerical import ridders_tableau

MAX_SETS = 32


def judge_ties(ev, key: str, a: np.ndarray, failed: np.ndarray, at_kink: np.ndarray, bounds: np.ndarray):
    """(failed, at_kink, notes) with tie sets judged together (module docstring); flat arrays."""
    failed, at_kink = failed.copy(), at_kink.copy()
    x = ev.point[key].reshape(-1).astype(np.float64)
    candidates = np.flatnonzero(failed | at_kink)
    values, inverse, counts = np.unique(x[candidates], return_inverse=True, return_counts=True)
    wrong_sets, rescued = [], 0
    for group in np.flatnonzero(counts >= 2)[:MAX_SETS]:
        members = candidates[inverse == group]
        derivative = along_set(ev, key, members, float(values[group]))
        if derivative is None:  # f kinked along the set too, or not finite: nothing concluded
            continue
        value, error = derivative
        total = float(np.sum(a[members]))
        allowed = float(np.sum(bounds[members])) + tol.ESTIMATE_SAFETY * error
        if abs(total - value) > allowed:
            if not tie_persists(ev, key, members, float(values[group])):
                continue  # equal values by coincidence whose kinks the set's move crosses: nothing concluded
            failed[members], at_kink[members] = True, False
            wrong_sets.append((members, total, value))
        else:
            rescued += int(np.sum(failed[members]))
            at_kink[members] |= failed[members]
            failed[members] = False
    notes = []
    for members, total, value in wrong_sets[:3]:
        notes.append(f"tie of {members.size} equal elements (flat {', '.join(map(str, members[:6]))}"
                     f"{', ...' if members.size > 6 else ''}): the gradient summed over them is {total:.6g}, the "
                     f"derivative moving them together {value:.6g} (f is smooth along it): no subgradient, e.g. the "
                     "full gradient given to every tied maximum")
    if rescued:
        notes.append(f"{rescued} element(s) outside their own one-sided slopes belong to ties whose summed gradient "
                     "matches the derivative moving the tie together (a convention such as the first maximum): at a "
                     "kink, not failed")
    return failed, at_kink, notes


def along_set(ev, key: str, members: np.ndarray, common: float):
    """(derivative, error bound) of f along the indicator of ``members`` (all equal to ``common``),
    or None where f has a kink along it (or is not finite): one-sided differences at h, h/2, h/4 (the
    central step of the tensor's precision), then Richardson over their means."""
    precision = ev.precision_of(key)
    h = float(tol.central_step(np.float64(common), precision))
    direction = np.zeros(ev.point[key].size)
    direction[members] = 1.0
    direction = direction.reshape(ev.point[key].shape)
    steps = h / np.array([1.0, 2.0, 4.0])
    forward, backward = np.empty(3), np.empty(3)
    for j, s in enumerate(steps):
        up, down = float(precision.type(common + s)) - common, common - float(precision.type(common - s))
        forward[j] = (ev.along(key, direction, up) - ev.value0) / up
        backward[j] = (ev.value0 - ev.along(key, direction, -down)) / down
    if not (np.all(np.isfinite(forward)) and np.all(np.isfinite(backward))):
        return None
    sides = OneSided(forward, backward, steps)
    if is_kink(sides, 0.0, ev.scale_of(key), precision):
        return None
    means = ((forward + backward) / 2)[:, None]
    rounding = tol.rounding_error(ev.scale_of(key), steps[:, None], precision)
    value, error, _ = ridders_tableau(means, steps[:, None], rounding)
    return float(value[0]), float(error[0])


def tie_persists(ev, key: str, members: np.ndarray, common: float) -> bool:
    """Whether the point stays on the tie's kink when the whole set moves together: at x + h 1_S
    (h the tensor's central step), f still has a kink along the first member alone (a max over the
    tied elements: they are still tied). Weights equal by coincidence at separate ReLU kinks leave
    their kinks when moved together, and f is smooth along the member there."""
    precision = ev.precision_of(key)
    h = float(tol.central_step(np.float64(common), precision))
    shape = ev.point[key].shape
    together = np.zeros(ev.point[key].size)
    together[members] = h
    alone = np.zeros_like(together)
    alone[members[0]] = 1.0
    together, alone = together.reshape(shape), alone.reshape(shape)
    base = ev.along(key, together, 1.0)
    steps = h / np.array([4.0, 8.0, 16.0])
    forward = np.array([(ev.along(key, together + s * alone, 1.0) - base) / s for s in steps])
    backward = np.array([(base - ev.along(key, together - s * alone, 1.0)) / s for s in steps])
    if not (np.isfinite(base) and np.all(np.isfinite(forward)) and np.all(np.isfinite(backward))):
        return False
    return is_kink(OneSided(forward, backward, steps), 0.0, ev.scale_of(key), precision)
