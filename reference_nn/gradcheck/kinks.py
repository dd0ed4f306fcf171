"""One-sided differences and kink detection (ReLU at 0, max, abs, clip).

At a kink the derivative jumps, a two-sided difference lands between the one-sided slopes, and the
hand-written gradient legitimately takes either side (or a convention in between). Such an element
is *inconclusive at a kink*, never a failure, unless the analytic value lies outside the range the
one-sided differences span. Only elements that already failed are examined: 6 evaluations each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tolerances as tol
from .evaluation import LossEvaluator


@dataclass(frozen=True)
class OneSided:
    """Forward and backward differences of one element at steps h, h/2, h/4: arrays of shape (3,)."""

    forward: np.ndarray
    backward: np.ndarray
    steps: np.ndarray

    @property
    def jumps(self) -> np.ndarray:
        """D(s) = forward(s) - backward(s): ~ s f'' for smooth f, ~ the slope jump at a kink."""
        return self.forward - self.backward


def one_sided_differences(ev: LossEvaluator, key: str, flat_index: int) -> OneSided:
    """(f(x + s) - f(x)) / s and (f(x) - f(x - s)) / s for s = h, h/2, h/4 (h the central step)."""
    x = float(ev.point[key].reshape(-1)[flat_index])
    h = float(tol.central_step(np.float64(x), ev.eval_dtype))
    steps = h / np.array([1.0, 2.0, 4.0])
    forward, backward = np.empty(3), np.empty(3)
    for j, s in enumerate(steps):
        x_plus, x_minus = ev.eval_dtype.type(x + s), ev.eval_dtype.type(x - s)
        forward[j] = (ev.with_element(key, flat_index, x_plus) - ev.value0) / (float(x_plus) - x)
        backward[j] = (ev.value0 - ev.with_element(key, flat_index, x_minus)) / (x - float(x_minus))
    return OneSided(forward, backward, steps)


def is_kink(sides: OneSided, tolerance: float, f_scale: float, eval_dtype) -> bool:
    """True if the one-sided slopes differ by more than ``tolerance`` in a way smooth f cannot.

    Smooth f: D(s) is proportional to s. A jump in slope within [x - h, x + h] breaks the
    proportionality of D(h/2) or D(h/4) to D(h) (see tolerances.KINK_NONLINEARITY).
    """
    d = sides.jumps
    # f(x+s) - 2 f(x) + f(x-s) is what measure_noise measures: eps * f_scale covers it; 2x for safety
    noise = 2.0 * tol.eps(eval_dtype) * f_scale / sides.steps[-1]
    if not (np.all(np.isfinite(d)) and abs(d[0]) > max(tolerance, tol.KINK_NOISE_MARGIN * float(noise))):
        return False
    departure = np.abs(d[1:] - d[0] * sides.steps[1:] / sides.steps[0])
    return bool(np.any(departure > tol.KINK_NONLINEARITY * abs(d[0])))


def explained_by_kink(ev: LossEvaluator, key: str, flat_index: int, analytic: float, tolerance: float):
    """(explained, kink, (low, high)) for one failing element.

    The element is inconclusive (not failed) when it sits at a kink and the analytic value lies in
    [min, max] of the one-sided slopes, widened by the element's tolerance.
    """
    sides = one_sided_differences(ev, key, flat_index)
    slopes = np.concatenate([sides.forward, sides.backward])
    low, high = float(np.min(slopes)), float(np.max(slopes))
    kink = is_kink(sides, tolerance, ev.f_scale, ev.eval_dtype)
    inside = low - tolerance <= analytic <= high + tolerance
    return kink and inside, kink, (low, high)
