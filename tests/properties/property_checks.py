"""The cores of the properties: plain functions ``check_xxx(example, ...) -> None`` that raise
AssertionError with a report (see property_report.py) when the property does not hold.

The @given tests in this folder call them on Hypothesis examples; the meta-tests
(test_property_meta_broken_gradients.py) call the same functions on fixed examples with a broken
backward rule swapped into reference_nn, and assert that they fail with a readable report.

Tolerances. Oracle comparisons use the project's tolerance table (equivalence_tests.tolerances)
through :mod:`oracle_comparison`. The reference-only properties compare two computations of the
same mathematical quantity in the same dtype, and use either the gradient checker's own allowance
for a hand-written gradient (``analytic_rtol(dtype) = sqrt(eps)`` times max(|a|, |b|, tensor RMS),
reference_nn/gradcheck/tolerances.py explains the number) or, for identities that involve only a
few roundings, a bound derived from the standard floating-point error model
``|fl(x op y) - (x op y)| <= eps/2 |x op y|`` (each function says which and why).
"""

from __future__ import annotations

import numpy as np
from hypothesis import event
from property_report import Mismatch, assert_no_mismatch, failure_report, worst_mismatch

import reference_nn as rn
from equivalence_tests.error_scale import gradient_error_scales
from equivalence_tests.oracles.finite_difference import cost_function
from equivalence_tests.oracles.reference_oracle import reference_cost_and_gradients
from equivalence_tests.strategies import KINKED_ACTIVATIONS, ModelExample
from reference_nn.gradcheck import check_gradients
from reference_nn.gradcheck import tolerances as gradcheck_tolerances

Params = dict[str, np.ndarray]


# ---------------------------------------------------------------------------------- helpers
def eps_of(dtype: str | np.dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def reference_gradients(example: ModelExample, params: Params | None = None, X: np.ndarray | None = None,
                        Y: np.ndarray | None = None, l2: float | None = None) -> tuple[float, Params]:
    """The reference's cost and ``{"W1": dW1, ...}`` (hand-written backward) for ``example`` with
    any of its arrays or its l2 replaced."""
    config = example.config if l2 is None else example.with_config(l2=l2).config
    _, cost, grads = reference_cost_and_gradients(
        config, example.params if params is None else params, example.X if X is None else X,
        example.Y if Y is None else Y,
    )
    return cost, grads


def rounding_tolerance(expected: np.ndarray, actual: np.ndarray, dtype: str, floor: np.ndarray | float = 0.0):
    """``analytic_rtol(dtype) * max(|expected|, |actual|, tensor RMS, floor)``: the gradient checker's
    allowance for a hand-written gradient computed in ``dtype`` (sqrt(eps): 1.5e-8 in float64,
    3.5e-4 in float32); ``floor`` is the size of terms that cancel in the computation."""
    scale = np.maximum(gradcheck_tolerances.element_scale(expected, actual), floor)
    return gradcheck_tolerances.analytic_rtol(np.dtype(dtype)) * scale


def compare_gradients(expected: Params, actual: Params, dtype: str, floors: Params | None = None) -> list[Mismatch]:
    return [
        worst_mismatch(f"gradient {name}", expected[name], actual[name],
                       rounding_tolerance(expected[name], actual[name], dtype, 0.0 if floors is None else floors[name]))
        for name in expected
    ]


# ---------------------------------------------------------------------- gradient checker
def check_reference_gradcheck(example: ModelExample, method: str) -> None:
    """The reference's gradients pass ``reference_nn.gradcheck.check_gradients(method=method)`` with
    its default (tight) tolerances, and no element is reported at a kink: the strategies keep every
    relu / leaky_relu pre-activation a margin away from its kink. (Elements smaller than the numerical
    derivative's own error bound, e.g. with tiny weights, may be inconclusive: nothing to verify.)"""
    f = cost_function(example.config, example.X, example.Y)

    def grad_f(params: Params) -> Params:
        return reference_gradients(example, params=params)[1]

    report = check_gradients(f, grad_f, example.params, method=method, seed=example.recipe.seed % 2**31)
    # Inconclusive for being smaller than the numerical error bound (tiny weights) is allowed; at a
    # kink is not. The checker says which in each parameter's note.
    at_kink = [name for name, result in report.results.items() if "at a kink" in result.inconclusive_reasons]
    if not report.failed and not at_kink:
        if report.inconclusive:
            event("gradcheck: some elements below the numerical error bound (not verified)")
        return
    headline = (f"gradient check {method} failed for {', '.join(report.failed_parameters)}" if report.failed
                else f"gradient check {method} reports elements of {', '.join(at_kink)} at a kink although the "
                "strategy keeps pre-activations a margin away from it")
    details = ["report:", *(f"  {line}" for line in str(report).splitlines()), "gradcheck reproducer:",
               *(f"  {line}" for line in report.reproducer.splitlines())]
    raise AssertionError(failure_report(f"gradcheck/{method}", example, headline, details,
                                        oracle=f"reference_nn.gradcheck {rn.__version__} ({method})"))


# ----------------------------------------------------------------------------- metamorphic
def check_softmax_ce_gradient_sums(example: ModelExample) -> None:
    """Softmax cross-entropy (fused or from logits): the gradient w.r.t. the logits of each sample,
    ``(p - y) / m``, sums to zero over classes (p and y both sum to 1), so ``sum_i db_L[i] == 0``
    for the batch and for each sample alone.

    Tolerance: the true sum is ``(sum p - sum y) / m`` with ``|1 - sum p| <= (n + 1) eps`` (the
    normalization) and ``|1 - sum y| <= n eps`` (targets renormalized in the dtype), plus the
    rounding of summing the n class entries of db_L and the m samples in each:
    ``4 (n + m + 1) eps (1 + sum |db_L|)``, a factor 2 over the sum of those bounds."""
    config = example.config
    if config.loss not in ("softmax_cross_entropy", "cross_entropy"):
        raise ValueError(f"check_softmax_ce_gradient_sums needs a softmax cross-entropy loss, got {config.loss!r}")
    last = f"b{config.n_layers}"
    n, m = example.Y.shape
    eps = eps_of(config.dtype)
    mismatches = []
    batches = [("whole batch", slice(None))] + [(f"sample {j} alone", slice(j, j + 1)) for j in range(m)]
    for label, columns in batches:
        _, grads = reference_gradients(example.with_config(l2=0.0), X=example.X[:, columns], Y=example.Y[:, columns])
        db = grads[last].astype(np.float64)
        tolerance = 4 * (n + m + 1) * eps * (1 + np.abs(db).sum())
        mismatches.append(worst_mismatch(f"sum over classes of d{last} ({label})", 0.0, db.sum(), tolerance))
    assert_no_mismatch("metamorphic/softmax_ce_gradient_sums", example, mismatches, "expected", "reference",
                       extra=[f"d{last} (whole batch): {reference_gradients(example)[1][last].ravel().tolist()}"])


def check_l2_adds_lambda_w(example: ModelExample, lambd: float) -> None:
    """With ``l2 = lambd`` the gradient of every weight gains exactly ``lambd * W`` (the documented
    penalty ``0.5 * lambd * sum(W**2)``), biases gain nothing, and the cost gains the penalty.

    Tolerances from the error model: dW_l2 = fl(dW + fl(lambd W)) differs from dW + lambd W by at
    most eps/2 (|dW_l2| + |lambd W|); 2 eps (...) leaves a factor 2. Biases: bitwise equal (the
    l2 path does not touch them). Cost: the penalty is a sum of k = #weights squares,
    error <= k eps * penalty, plus eps of each cost. Gradients also get the dtype's smallest normal
    number: lambda W below it underflows."""
    config = example.config
    eps = eps_of(config.dtype)
    cost_plain, plain = reference_gradients(example, l2=0.0)
    cost_l2, with_l2 = reference_gradients(example, l2=lambd)
    mismatches = []
    weights = [name for name in example.params if name.startswith("W")]
    for name in example.params:
        gained = with_l2[name].astype(np.float64) - plain[name].astype(np.float64)
        if name in weights:
            expected = lambd * example.params[name].astype(np.float64)
            tolerance = 2 * eps * (np.abs(with_l2[name]) + np.abs(expected)) + np.finfo(config.numpy_dtype).tiny
        else:
            expected, tolerance = np.zeros_like(gained), 0.0
        mismatches.append(worst_mismatch(f"gradient {name} gained", expected, gained, tolerance))
    penalty = 0.5 * lambd * sum(float(np.sum(example.params[name].astype(np.float64) ** 2)) for name in weights)
    size = sum(example.params[name].size for name in weights)
    tolerance = (size + 2) * eps * penalty + eps * (abs(cost_plain) + abs(cost_l2))
    mismatches.append(worst_mismatch("cost gained", penalty, cost_l2 - cost_plain, tolerance))
    assert_no_mismatch("metamorphic/l2_adds_lambda_w", example, mismatches, "lambda*W", "reference",
                       extra=[f"lambda: {lambd!r}"])


def check_sgd_step(example: ModelExample) -> None:
    """One step of the reference SGD (the config's lr, momentum, nesterov, weight decay; fresh state)
    equals ``theta - lr * d`` with ``d = g + wd theta`` (times ``1 + momentum`` with Nesterov: the
    first momentum buffer is d itself), and ``update_parameters(params, grads, lr)`` equals
    ``theta - lr g``. g: the reference's gradients.

    Tolerance: about four roundings (g + wd theta, the Nesterov factor, lr *, theta -), each at most
    eps/2 of the values involved: ``4 eps (|theta| + lr |d|)``, a factor 2 to spare, plus the dtype's
    smallest normal number: a step below it (float32 lr g ~ 1e-46) underflows to 0 or a subnormal."""
    config = example.config
    opt = config.optimizer
    if opt.name != "sgd":
        raise ValueError(f"check_sgd_step needs an SGD optimizer config, got {opt.name!r}")
    eps = eps_of(config.dtype)
    _, grads = reference_gradients(example)
    stepped = opt.build().step(example.params, grads)
    plain = rn.update_parameters(example.params, {f"d{k}": v for k, v in grads.items()}, opt.learning_rate)
    mismatches = []
    for name, theta in example.params.items():
        theta64, g64 = theta.astype(np.float64), grads[name].astype(np.float64)
        direction = g64 + opt.weight_decay * theta64
        if opt.nesterov:
            direction = direction * (1 + opt.momentum)
        expected = theta64 - opt.learning_rate * direction
        tiny = np.finfo(theta.dtype).tiny
        tolerance = 4 * eps * (np.abs(theta64) + opt.learning_rate * np.abs(direction)) + tiny
        mismatches.append(worst_mismatch(f"SGD.step {name}", expected, stepped[name], tolerance))
        expected_plain = theta64 - opt.learning_rate * g64
        tolerance_plain = 4 * eps * (np.abs(theta64) + opt.learning_rate * np.abs(g64)) + tiny
        mismatches.append(worst_mismatch(f"update_parameters {name}", expected_plain, plain[name], tolerance_plain))
    assert_no_mismatch("metamorphic/sgd_step", example, mismatches, "theta - lr*g", "reference",
                       extra=[f"optimizer: {opt!r}"])


def check_batch_mean_gradient(example: ModelExample) -> None:
    """The gradient of the batch cost equals the mean of the m single-sample gradients (every loss
    averages over samples, and the l2 term is the same in each: its mean is itself).

    Tolerance: rounding_tolerance with a floor of mean_j |g_j|: the per-sample gradients may cancel
    in the mean, and the rounding of the batch sum is relative to the size of its terms."""
    _, whole = reference_gradients(example)
    m = example.X.shape[1]
    singles = [reference_gradients(example, X=example.X[:, j:j + 1], Y=example.Y[:, j:j + 1])[1] for j in range(m)]
    mean = {name: np.mean([single[name].astype(np.float64) for single in singles], axis=0) for name in whole}
    floors = {name: np.mean([np.abs(single[name].astype(np.float64)) for single in singles], axis=0) for name in whole}
    mismatches = compare_gradients(mean, whole, example.config.dtype, floors)
    assert_no_mismatch("metamorphic/batch_mean_gradient", example, mismatches, "mean of per-sample", "batch")


def check_batch_permutation(example: ModelExample, permutation: np.ndarray) -> None:
    """Permuting the samples (columns of X and Y together) changes no gradient and not the cost.
    Tolerance: rounding_tolerance (only the order of the batch sums changes), relative to the size of
    the terms summed (the running-error scale): samples whose contributions cancel leave a gradient
    far smaller than its terms, and a different summation order moves it by eps times the terms
    (thorough run 2026-11-29: float32, tiny weights, repeated columns, gradients 1e-3 apart)."""
    cost, grads = reference_gradients(example)
    cost_permuted, permuted = reference_gradients(example, X=example.X[:, permutation], Y=example.Y[:, permutation])
    floors = gradient_error_scales(example.config, example.params, example.X, example.Y)
    mismatches = compare_gradients(grads, permuted, example.config.dtype, floors)
    mismatches.append(worst_mismatch("cost", cost, cost_permuted, rounding_tolerance(cost, cost_permuted,
                                                                                     example.config.dtype)))
    assert_no_mismatch("metamorphic/batch_permutation", example, mismatches, "original order", "permuted",
                       extra=[f"permutation: {permutation.tolist()}"])


# ---------------------------------------------------------------------- backward linearity
def backward_magnitude(layer, u: np.ndarray) -> dict[str, np.ndarray]:
    """Size of the terms summed when ``layer.backward(u)`` is computed: the bound that its rounding
    error is relative to. Linear: |W|^T |u|, |u| |x|^T, sum |u|; element-wise activations: |g'| |u|;
    softmax: A |u| + A sum(A |u|)."""
    if isinstance(layer, rn.Linear):
        x = layer._input
        return {"input": np.abs(layer.params["W"]).T @ np.abs(u), "W": np.abs(u) @ np.abs(x).T,
                "b": np.abs(u).sum(axis=1, keepdims=True)}
    Z, A = layer._cache
    if isinstance(layer, rn.Softmax):
        return {"input": A * np.abs(u) + A * (A * np.abs(u)).sum(axis=0, keepdims=True)}
    return {"input": np.abs(layer.backpropagate(np.abs(u), Z, A))}


def check_backward_linearity(layer, x: np.ndarray, u: np.ndarray, v: np.ndarray, a: float, b: float,
                             label: str) -> None:
    """``backward(a u + b v) == a backward(u) + b backward(v)`` for the input gradient and every
    parameter gradient of ``layer`` (after one ``forward(x)``). u, v: upstream gradients of y's shape.

    Tolerance: each backward is a sum of at most K products (K = the largest dimension), with error
    <= K eps times its magnitude (backward_magnitude); three backward calls and the combination:
    ``4 (K + 2) (eps (|a| |u|-magnitude + |b| |v|-magnitude) + tiny)``, where ``tiny`` (the dtype's
    smallest normal number) bounds the absolute error of results that underflow (a saturated sigmoid
    derivative times a small upstream value)."""
    dtype = x.dtype
    eps = eps_of(dtype)
    layer.forward(x)

    def backward(upstream: np.ndarray) -> dict[str, np.ndarray]:
        result = {"input": np.asarray(layer.backward(upstream.astype(dtype)), dtype=np.float64)}
        result.update({name: np.asarray(g, dtype=np.float64) for name, g in layer.grads.items()})
        return result

    combined = backward(dtype.type(a) * u + dtype.type(b) * v)
    of_u, of_v = backward(u), backward(v)
    size_u, size_v = backward_magnitude(layer, u), backward_magnitude(layer, v)
    K = max(x.shape + u.shape)
    mismatches = []
    for name in combined:
        expected = a * of_u[name] + b * of_v[name]
        tolerance = 4 * (K + 2) * (eps * (abs(a) * size_u[name] + abs(b) * size_v[name]) + np.finfo(dtype).tiny)
        mismatches.append(worst_mismatch(f"backward {name}", expected, combined[name], tolerance))
    assert_no_mismatch("metamorphic/backward_linearity", None, mismatches, "a*B(u) + b*B(v)", "B(a*u + b*v)",
                       extra=[f"layer: {label} {layer!r}, dtype {dtype}, x{x.shape}, u{u.shape}",
                              f"a = {a!r}, b = {b!r}"])


# -------------------------------------------------------------------------------- kinks
def kink_rows(example: ModelExample) -> dict[int, list[tuple[int, int]]]:
    """``{layer: [(row, column), ...]}`` of the exact zeros of the kink example."""
    rows: dict[int, list[tuple[int, int]]] = {}
    for layer, row, column in example.kink_points:
        rows.setdefault(layer, []).append((row, column))
    return rows


def nudged_below_kinks(example: ModelExample, delta: float) -> Params:
    """float64 parameters whose biases put every exact-zero pre-activation of the example at
    ``-delta`` (the side of the kink whose slope the documented convention takes: relu'(0) = 0 and
    leaky'(0) = alpha are the slopes left of 0), layer by layer, recomputing the forward pass.

    The other pre-activations do not change side: the kink examples are dyadic, so every nonzero
    one is at least 2^-11 away from 0, far more than ``delta`` (2^-20) times the network's gain."""
    params = {name: value.astype(np.float64) for name, value in example.params.items()}
    A = example.X.astype(np.float64)
    zeros = kink_rows(example)
    for layer, activation in enumerate(example.config.activation_objects(), start=1):
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        Z = W @ A + b
        by_row: dict[int, list[int]] = {}
        for row, column in zeros.get(layer, []):
            by_row.setdefault(row, []).append(column)
        for row, columns in by_row.items():  # one bias per row: the largest of its zeros goes to -delta
            b[row, 0] -= Z[row, columns].max() + delta
        A = activation.evaluate(W @ A + b)
    return params


def check_kink_reference_convention(example: ModelExample) -> None:
    """At exact zeros of relu / leaky_relu pre-activations the reference's gradient is the one-sided
    gradient from below (relu'(0) = 0, leaky'(0) = alpha, as documented).

    The one-sided gradient is the limit of the reference's gradient at points where each zero is
    moved to ``-delta``, where no convention is involved (and which the oracle properties check
    against torch, TF and finite differences). The gradient there is smooth in delta, so the limit
    is extrapolated linearly from delta = 2^-20 and 2^-19: g(0-) = 2 g(-d) - g(-2d) + O(d^2). All in
    float64, the gradient at the kink too: dyadic examples convert exactly, the zeros stay exact zeros,
    so the float32 example takes the same branch; float64 keeps float32 rounding of near-cancelling
    sums (p - y with p ~ y) out of a check that is about the branch.

    Tolerance: rounding_tolerance(float64, floored at the entry's running-error magnitude,
    equivalence_tests.error_scale) plus 4 |g(-d) - g(-2d)|, which bounds the extrapolation's
    remainder (d |g''| ~ 1e-6 of the first-order change) and the rounding noise of the nudged
    gradients themselves; a wrong convention moves the gradient by the full one-sided slope difference
    (times the upstream gradient), about 1e6 times more than that change."""
    if not example.kink_points:
        raise ValueError("check_kink_reference_convention needs an example with kink_points")
    for layer, row, column in example.kink_points:
        activation = example.config.activation_objects()[layer - 1]
        slope = activation.backpropagate(np.ones((1, 1)), np.zeros((1, 1)), activation.evaluate(np.zeros((1, 1))))
        documented = example.config.leaky_relu_alpha if activation.name == "leaky_relu" else 0.0
        if activation.name not in KINKED_ACTIVATIONS or float(slope[0, 0]) != documented:
            raise AssertionError(failure_report(
                "kinks/reference_convention", example,
                f"{activation!r} has derivative {float(slope[0, 0])!r} at 0, documented {documented!r}",
                [f"kink at layer {layer}, row {row}, column {column}"]))
    X64, Y64 = example.X.astype(np.float64), example.Y.astype(np.float64)
    config64 = example.with_config(dtype="float64")
    params_near, params_far = nudged_below_kinks(example, 2.0**-20), nudged_below_kinks(example, 2.0**-19)
    _, near = reference_gradients(config64, params=params_near, X=X64, Y=Y64)
    _, far = reference_gradients(config64, params=params_far, X=X64, Y=Y64)
    left = {name: 2 * near[name] - far[name] for name in near}
    remainder = {name: 4 * np.abs(near[name] - far[name]) for name in near}
    params64 = {name: value.astype(np.float64) for name, value in example.params.items()}
    _, at_kink = reference_gradients(config64, params=params64, X=X64, Y=Y64)
    # floor: the running-error magnitude of each gradient entry (an entry that is exactly 0 in theory,
    # e.g. where two softmax weights are equal, is rounding of terms of that size, not 0), at the kink
    # and of the extrapolation 2 near - far from the nudged points (rounding error <= 2 M_near + M_far:
    # where p - y cancels to rounding noise, near and far carry different noise that the remainder
    # term, made for smooth change, does not bound; 4-1-2-2 leaky_relu,identity,softmax cross_entropy,
    # seed 3496067, thorough run: W2[1, 0] limit -1.3e-23 against exactly 0 at the kink).
    floor_at_kink = gradient_error_scales(config64.config, params64, X64, Y64)
    floor_near = gradient_error_scales(config64.config, params_near, X64, Y64)
    floor_far = gradient_error_scales(config64.config, params_far, X64, Y64)
    floors = {name: np.maximum(floor_at_kink[name], 2 * floor_near[name] + floor_far[name]) for name in floor_at_kink}
    mismatches = []
    for name in left:
        tolerance = rounding_tolerance(left[name], at_kink[name], "float64", floors[name]) + remainder[name]
        mismatches.append(worst_mismatch(f"gradient {name}", left[name], at_kink[name], tolerance))
    assert_no_mismatch("kinks/reference_convention", example, mismatches, "one-sided limit from below",
                       "at Z = 0", extra=[f"kink points (layer, row, column): {list(example.kink_points)}"])


def check_kink_gradcheck_inconclusive(example: ModelExample, method: str = "central") -> None:
    """At exact kinks, central differences straddle the kink and disagree with any one-sided
    convention; reference_nn.gradcheck must call those elements inconclusive, never failed."""
    f = cost_function(example.config, example.X, example.Y)
    report = check_gradients(f, lambda params: reference_gradients(example, params=params)[1], example.params,
                             method=method)
    if not report.failed:  # INCONCLUSIVE (at a kink) or PASS (no element straddled one)
        return
    details = ["report:", *(f"  {line}" for line in str(report).splitlines()),
               f"kink points (layer, row, column): {list(example.kink_points)}"]
    raise AssertionError(failure_report("kinks/gradcheck_inconclusive", example,
                                        f"gradient check ({method}) FAILED at a kink instead of saying inconclusive",
                                        details, oracle=f"reference_nn.gradcheck {rn.__version__} ({method})"))

