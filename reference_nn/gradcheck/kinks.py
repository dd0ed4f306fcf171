"""One-sided differences and kink detection (ReLU at 0, max, abs, clip).

At a kink the derivative jumps, a two-sided difference lands between the one-sided slopes, and the
hand-written gradient legitimately takes either side (or a convention in between). Such an element
is *inconclusive at a kink*, never a failure, unless the analytic value lies outside the range the
one-sided differences span. Only elements that already failed are examined: 6 evaluations each.

Several kinks at one point (two ReLU units at 0 moved by the same weight in opposite directions,
a whole unit at 0) can make a legitimate convention lie outside both one-sided slopes of the
coordinate: ReLU'(0) = 0 for both units is the gradient of the piece where both are off, which no
move of one coordinate reaches. For such an element the slopes of the same coordinate at points
just off x in random directions of the whole parameter space (inside the pieces around x, see
tolerances.NEARBY_STEP_RATIO) widen the range: 130 more evaluations per failing element, for at
most NEARBY_MAX_ELEMENTS failing elements per tensor, and only where f has a kink at x in some
random direction of the whole space (``kinked_at_point``, 12 evaluations once per check).
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
    precision = ev.precision_of(key)
    h = float(tol.central_step(np.float64(x), precision))
    steps = h / np.array([1.0, 2.0, 4.0])
    forward, backward = np.empty(3), np.empty(3)
    for j, s in enumerate(steps):
        x_plus, x_minus = (ev.eval_dtype.type(precision.type(v)) for v in (x + s, x - s))
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
    # the departure is itself a difference of noisy slopes: a smooth f in float32 evaluation showed
    # "kinks" where D(h) stood barely out of the noise and its noise made the departure
    return bool(np.any(departure > tol.KINK_NONLINEARITY * abs(d[0]) + 2.0 * float(noise)))


def nearby_slopes(ev: LossEvaluator, key: str, flat_index: int, tolerance: float, pairs: int = tol.NEARBY_PAIRS,
                  seed: int = 0) -> np.ndarray:
    """Slopes of element ``flat_index`` of ``key`` inside the smooth pieces that meet at the current
    point: central differences at ``x + r d`` for random sign patterns ``+-d`` that show a piece
    (see tolerances.NEARBY_STEP_RATIO), shape (k,), k <= 2 * pairs (0 for smooth f).

    ``d`` has random signs and magnitudes in [0.5, 1.5] times ``max(|x_j|, rms of the tensor)`` (1
    for an all-zero tensor). The step is the element's central step ``h`` at x and ``r = 16 h``
    relative. Seeded: the same points on every run."""
    rng = np.random.default_rng([seed, flat_index, len(key)])
    x = float(ev.point[key].reshape(-1)[flat_index])
    precision = ev.precision_of(key)
    h = float(tol.central_step(np.float64(x), precision))
    radius = tol.NEARBY_STEP_RATIO * tol.eps(precision) ** (1.0 / 3.0)
    noise = 2.0 * tol.eps(precision) * ev.scale_of(key) / h
    at_x = _central_slope_at(ev, ev.point, key, flat_index, h)
    slopes = []
    for _ in range(pairs):
        pattern = _random_pattern(ev, rng)
        for sign in (1.0, -1.0):
            far, near = (_central_slope_at(ev, _moved(ev, sign * r, pattern), key, flat_index, h)
                         for r in (radius, radius / 2))
            if not (np.isfinite(far) and np.isfinite(near)):
                continue
            move = far - at_x
            shows_piece = abs(move) > max(tolerance, tol.KINK_NOISE_MARGIN * noise) and \
                abs((near - at_x) - move / 2) > tol.KINK_NONLINEARITY * abs(move) + 2.0 * noise
            if shows_piece:
                slopes.append(far)
    return np.array(slopes)


def kinked_at_point(ev: LossEvaluator) -> bool:
    """Whether f has a kink at the evaluator's point in some direction of the whole parameter space:
    one-sided differences along KINK_PROBE_DIRECTIONS seeded random directions, judged like a
    coordinate's (``is_kink``). Computed once per evaluator (6 evaluations per direction) and cached:
    it gates the costlier ``nearby_slopes`` probe, which a smooth f never needs."""
    if ev.kinked is None:
        rng = np.random.default_rng(tol.KINK_PROBE_SEED)
        t = tol.eps(ev.precision_of()) ** (1.0 / 3.0)  # the coarsest tensor's central step
        steps = t / np.array([1.0, 2.0, 4.0])
        ev.kinked = False
        for _ in range(tol.KINK_PROBE_DIRECTIONS):
            pattern = _step_pattern(ev, rng)
            forward, backward = np.empty(3), np.empty(3)
            for j, s in enumerate(steps):
                forward[j] = (ev.at(_moved(ev, s, pattern)) - ev.value0) / s
                backward[j] = (ev.value0 - ev.at(_moved(ev, -s, pattern))) / s
            if is_kink(OneSided(forward, backward, steps), 0.0, ev.scale_of(), ev.precision_of()):
                ev.kinked = True
                break
    return ev.kinked


def _random_pattern(ev: LossEvaluator, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random signs times magnitudes in [0.5, 1.5] max(|x_j|, rms of the tensor) (1 for all zeros)."""
    pattern = {}
    for name, values in ev.point.items():
        values = values.astype(np.float64)
        magnitude = np.maximum(np.abs(values), tol._rms(values) or 1.0)
        pattern[name] = rng.choice([-1.0, 1.0], size=values.shape) * rng.uniform(0.5, 1.5, values.shape) * magnitude
    return pattern


def _step_pattern(ev: LossEvaluator, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random signs times magnitudes in [0.5, 1.5] max(1, |x_j|): the reach of each element's own
    central step (tolerances.central_step), so that a kink within a coordinate's step (a ReLU input
    3.7e-6 from 0 under a step of 6e-6, which made a right gradient FAIL in the stress runs) is a
    kink at the point for this probe too; an RMS-scaled pattern moved small parameters too little."""
    pattern = {}
    for name, values in ev.point.items():
        magnitude = np.maximum(1.0, np.abs(values.astype(np.float64)))
        pattern[name] = rng.choice([-1.0, 1.0], size=values.shape) * rng.uniform(0.5, 1.5, values.shape) * magnitude
    return pattern


def _moved(ev: LossEvaluator, radius: float, pattern) -> dict[str, np.ndarray]:
    """The evaluator's point moved by ``radius * pattern``, in the evaluation dtype."""
    return {name: (values + radius * pattern[name]).astype(ev.eval_dtype) for name, values in ev.point.items()}


def _central_slope_at(ev: LossEvaluator, point, key: str, flat_index: int, h: float) -> float:
    """Central difference of one element at ``point`` (step ``h``, as actually representable)."""
    centre = float(point[key].reshape(-1)[flat_index])
    precision = ev.precision_of(key)  # steps on the grid f computes on: the step taken is known exactly
    plus = {**point, key: _with(point[key], flat_index, float(precision.type(centre + h)), ev.eval_dtype)}
    minus = {**point, key: _with(point[key], flat_index, float(precision.type(centre - h)), ev.eval_dtype)}
    step = float(plus[key].reshape(-1)[flat_index]) - float(minus[key].reshape(-1)[flat_index])
    return (ev.at(plus) - ev.at(minus)) / step


def _with(values: np.ndarray, flat_index: int, value: float, dtype) -> np.ndarray:
    copy = np.array(values, dtype=dtype, copy=True)
    copy.reshape(-1)[flat_index] = value
    return copy


def explained_by_kink(ev: LossEvaluator, key: str, flat_index: int, analytic: float, tolerance: float,
                      probe_pieces: bool = True):
    """(explained, kink, (low, high), coincident) for one failing element.

    The element is inconclusive (not failed) when it sits at a kink and the analytic value lies in
    [min, max] of the one-sided slopes, widened by the element's tolerance. Failing that (and with
    ``probe_pieces``), the slopes inside the smooth pieces around x (``nearby_slopes``: several kinks
    meeting at x) widen the range; an element explained only by them has ``coincident`` True and
    counts as a kink. An analytic value outside every slope seen around x is a failure.
    """
    sides = one_sided_differences(ev, key, flat_index)
    slopes = np.concatenate([sides.forward, sides.backward])
    low, high = float(np.min(slopes)), float(np.max(slopes))
    kink = is_kink(sides, tolerance, ev.scale_of(key), ev.precision_of(key))
    inside = low - tolerance <= analytic <= high + tolerance
    if (kink and inside) or not probe_pieces or not kinked_at_point(ev):
        return kink and inside, kink, (low, high), False
    pieces = nearby_slopes(ev, key, flat_index, tolerance)
    if pieces.size == 0:
        return False, kink, (low, high), False
    low, high = min(low, float(np.min(pieces))), max(high, float(np.max(pieces)))
    inside = low - tolerance <= analytic <= high + tolerance
    return inside, True, (low, high), inside
