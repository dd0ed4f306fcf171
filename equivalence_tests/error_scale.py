"""Per-element error scales: how large the rounding error of each compared quantity may honestly be.

The standard running-error bound (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 3):
a sum of products ``s = sum_k x_k y_k`` computed in floating point has
``|fl(s) - s| <= gamma_n sum_k |x_k y_k|``, ``gamma_n = n eps / (1 - n eps)``. The bound is
relative to the sum of the *magnitudes* of the terms, not to ``|s|``: when terms cancel, ``s``
may be tiny while its rounding error stays the size of the terms. An oracle's result and the
reference's are two such computations in different orders, so ``|r - c|`` is bounded the same way.

This module computes, for a model (config, params, X, Y), a magnitude ``M`` per element of every
quantity the harness compares (forward output, cost, gradients, optimizer displacements) such that
its rounding error is at most ``(a modest growth factor) * eps * M``. The tolerance table divides
``|r - c|`` by ``max(|r|, |c|, rms, M)``, so its rtols stay "a few eps times a growth factor".

Propagation (first order, all in float64, on the absolute values of the reference's own values;
``M_x >= |x|`` for every quantity ``x``):

* inputs: ``M_X = |X|``, ``M_W = |W|``, ``M_b = |b|`` (given exactly);
* a product ``x y`` has error ``|x| err(y) + err(x) |y|``; a matrix product ``W A`` has
  ``M = |W| M_A + |b|`` (the factor <= 2 lost by merging ``|W||A|`` into ``|W| M_A`` is in the rtol);
* a function ``g(z)``: ``M = |g(z)| + |g'(z)| M_z`` (its own rounding plus the propagated error);
  softmax: ``M = A (1 + M_z + sum_k A_k M_z,k)`` (its Jacobian is ``diag(A) - A A^T``);
* a derivative computed from the rounded output, as frameworks do (tanh: ``1 - A^2``, sigmoid:
  ``A (1 - A)``): the magnitudes of those terms (``1 + A^2``), so a saturated unit's tiny derivative
  carries an absolute error ~eps; relu, leaky_relu and identity derivatives are exact;
* a log clamped to ``[-100, 0]`` (BCE, cross-entropy): ``M = |log p| + M_p / p``, where the
  propagated part is capped at ``100 / eps`` (an error of 100: the clamp bounds both values);
* backward: ``M_dZ = M_dA |g'| + |dA| M_g'``, ``M_dW = M_dZ |A_prev|^T + |dZ| M_A_prev^T + l2 |W|``,
  ``M_db = sum M_dZ``, ``M_dA_prev = |W|^T M_dZ``; softmax: ``s = sum A dA``,
  ``M_dZ = M_A |dA - s| + A (M_dA + M_s)``, ``M_s = sum (M_A |dA| + A M_dA)``;
* losses with a fused form (sigmoid + bce, softmax + cross_entropy): an oracle may take the chain
  rule, so the larger of the fused and the chained magnitudes is used.

Optimizer displacements (``theta_k - theta_0``) are sums of steps; each step's magnitude follows the
same rules from the gradient magnitudes of the iterate it was taken at (the reference's iterates,
in float64), where the iterate's own uncertainty enters as an error of W and b (``R_Z += R_W |A| +
R_b``, ``R_dA += R_W^T |dZ|``): the storage rounding of each step and, for Adam, the displacement
bound so far (an entry whose gradient is rounding noise may step by +-lr in either implementation).
SGD: ``lr M_d`` with ``M_d = M_g + wd |theta|`` and momentum buffers accumulating magnitudes.
Adam divides by ``s = sqrt(v_hat)``: the step ``lr m_hat / (s + eps)`` has magnitude
``lr (M_m / (s + eps) + |m_hat| M_s / (s + eps)^2)`` where ``M_s`` bounds the error of ``s``:
``sqrt`` of a weighted sum of squares is 1-Lipschitz in the weighted 2-norm, so
``M_s = sqrt(sum_j w_j M_gj^2 / (1 - beta2^t))`` (no division by a possibly zero ``s``). This is
what makes Adam "normalize each entry": a gradient entry of relative error ``e`` gives a step of
relative error ``~2 e``, and an entry at rounding level (``|g| <~ eps M_g``) may give any step of
size up to ``lr R`` (``R`` = the largest ``|m_hat| / s`` Adam's averaging allows), so the per-step
magnitude is capped at ``2 lr R / eps``: beyond that the bound says nothing more than "any sign".

The scale is an upper bound of the *size* of the error, not the error: a planted bug of relative size
``delta`` stays visible wherever ``delta |value| > rtol M``; tests/properties measure how far
``M`` lies above the values for well-conditioned models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equivalence_tests.config import ModelConfig
from equivalence_tests.error_scale_modern import MODERN_ADAPTIVE, modern_activation, modern_loss, modern_step_scale

Params = dict[str, np.ndarray]
LOG_CLAMP_MAGNITUDE = 100.0  # reference_nn.losses.LOG_CLAMP: logs are clamped to >= -100
DENOMINATOR_CLAMP = 1e-12  # reference_nn.losses.GRADIENT_DENOMINATOR_CLAMP
FUSED = {("sigmoid", "bce"), ("softmax", "cross_entropy"), ("softmax", "kl_div")}
# optimizers that divide by a root of squared gradients: a rounding-level gradient may step by +-lr
ADAPTIVE = ("adam", "adamw") + MODERN_ADAPTIVE
ADAM_ROUNDINGS = 12  # roundings in one Adam step of one element (see _step_scale)


@dataclass(frozen=True)
class ErrorScales:
    """Magnitudes ``M`` (float64) with the shapes of the compared quantities: ``forward (nL, m)``,
    ``cost`` a float, ``gradients`` and ``updated_params`` (displacements) ``{"W1": (n1, n0), ...}``."""

    forward: np.ndarray
    cost: float
    gradients: Params
    updated_params: Params

    def for_quantity(self, quantity: str, name: str = "") -> np.ndarray | float:
        if quantity == "forward":
            return self.forward
        if quantity == "cost":
            return self.cost
        if quantity == "gradient":
            return self.gradients[name]
        if quantity == "updated_params":
            return self.updated_params[name]
        raise ValueError(f"quantity must be forward, cost, gradient or updated_params, got {quantity!r}")


# ------------------------------------------------------------------------- activations
# Convention: for a computed quantity x, ``R_x`` bounds its error as a multiple of eps (error <=
# c eps R_x, c a modest gamma-factor in the rtol). ``R`` counts the rounding of the operation that
# made x (the sum of |terms| for a sum of products, |x| for one rounding, 0 for an exact operation
# such as relu or identity) plus the inputs' errors propagated through the operation's derivative.
# Exact inputs (X, Y, W, b) have R = 0.
EXACT = ("identity", "linear", "relu", "leaky_relu")


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-Z) without cancellation for Z << 0 (e^Z / (1 + e^Z) there): a saturated unit's
    tiny value is what its derivative and error scale are made of."""
    with np.errstate(over="ignore"):
        E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def _activation(name: str, Z: np.ndarray, R_Z: np.ndarray, alpha: float):
    """``(A, R_A, g'(Z), R_g')`` for an element-wise activation; softmax returns g' = None.
    relu / leaky_relu / identity round nothing (R_A = |g'| R_Z, R_g' = 0)."""
    if name in ("identity", "linear"):
        return Z, R_Z, np.ones_like(Z), np.zeros_like(Z)
    if name in ("relu", "leaky_relu"):
        slope = np.where(Z > 0, 1.0, 0.0 if name == "relu" else alpha)
        return Z * slope, slope * R_Z, slope, np.zeros_like(Z)
    if name == "sigmoid":
        A = _sigmoid(Z)
        slope = A * (1 - A)
        R_A = A + slope * R_Z
        # g' = A (1 - A) computed from the rounded A (as torch and TF do): 1 - A rounds at the size
        # of 1 + A, so a saturated unit's derivative carries an absolute error ~eps, not eps g'.
        return A, R_A, slope, slope + A * (1 + A + R_A) + (1 - A) * R_A
    if name == "tanh":
        A = np.tanh(Z)
        slope = 1 - A * A
        R_A = np.abs(A) + slope * R_Z
        # g' = 1 - A^2 from the rounded A: absolute error ~eps (1 + A^2), however small g' is.
        return A, R_A, slope, 1 + A * A + 2 * np.abs(A) * R_A
    if name == "softmax":
        shifted = np.exp(Z - Z.max(axis=0, keepdims=True))
        A = shifted / shifted.sum(axis=0, keepdims=True)
        return A, A * (1 + R_Z + (A * R_Z).sum(axis=0, keepdims=True)), None, None
    return modern_activation(name, Z, R_Z)  # issue 17's activations; raises for an unknown name


def _clamped_log(p: np.ndarray, R_p: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(log p clamped to >= -100, R)``: its error is ``eps R_p / p`` (first order), and never more
    than the clamp's range 100 (both sides lie in [-100, 0]): R is capped at ``100 / eps``.

    The propagated part is what a saturated probability costs: ``1 - p`` for ``p = 1 - 1e-5`` has
    the absolute error of ``p`` (eps), so ``log(1 - p)`` is good to ``eps / 1e-5`` only, in any
    implementation that starts from the rounded ``p`` (the reference's bce does; a framework that
    keeps the logits does not)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.maximum(np.log(p), -LOG_CLAMP_MAGNITUDE)
        propagated = np.where(p > 0, R_p / np.where(p > 0, p, 1.0), np.inf)
    return log, np.abs(log) + np.minimum(propagated, LOG_CLAMP_MAGNITUDE / eps)


# ------------------------------------------------------------------------------ losses
def _loss(loss: str, AL, R_AL, Y, eps: float):
    """``(cost, R_cost, dAL, R_dAL)`` before the l2 penalty. AL, Y (nL, m)."""
    n, m = AL.shape
    size = AL.size
    aY = np.abs(Y)
    if loss == "mse":
        d = AL - Y
        R_d = np.abs(d) + R_AL
        return np.mean(d * d), float(np.mean(d * d + 2 * np.abs(d) * R_d)), 2 * d / size, 2 * (np.abs(d) + R_d) / size
    if loss == "bce":
        log_p, R_log_p = _clamped_log(AL, R_AL, eps)
        log_q, R_log_q = _clamped_log(1 - AL, 1 + R_AL, eps)
        cost = -np.mean(Y * log_p + (1 - Y) * log_q)
        R_cost = float(np.mean(aY * R_log_p + np.abs(1 - Y) * R_log_q))
        numerator, R_numerator = AL - Y, np.abs(AL - Y) + R_AL
        product = AL * (1 - AL)
        clamped = product < DENOMINATOR_CLAMP
        denominator = np.maximum(product, DENOMINATOR_CLAMP)
        R_denominator = np.where(clamped, 0.0, R_AL * np.abs(1 - AL) + np.abs(AL) * (1 + R_AL) + product)
        dAL = numerator / (denominator * size)
        R_dAL = (np.abs(numerator) + R_numerator) / denominator / size \
            + np.abs(numerator) * R_denominator / denominator**2 / size
        return cost, R_cost, dAL, R_dAL
    if loss == "bce_with_logits":
        Z, R_Z = AL, R_AL
        softplus = np.logaddexp(0.0, -np.abs(Z))
        cost = np.mean(np.maximum(Z, 0) - Z * Y + softplus)
        R_cost = float(np.mean(np.abs(Z) * (1 + aY) + softplus + (1 + aY) * R_Z))
        p = _sigmoid(Z)
        return cost, R_cost, (p - Y) / size, (np.abs(p - Y) + p + p * (1 - p) * R_Z) / size
    if loss == "cross_entropy":
        log_p, R_log_p = _clamped_log(AL, R_AL, eps)
        cost = -np.sum(Y * log_p) / m
        R_cost = float(np.sum(aY * R_log_p) / m)
        denominator = np.maximum(AL, DENOMINATOR_CLAMP)
        R_denominator = np.where(AL < DENOMINATOR_CLAMP, 0.0, R_AL)
        dAL = -Y / (denominator * m)
        return cost, R_cost, dAL, (aY / denominator + aY * R_denominator / denominator**2) / m
    if loss == "softmax_cross_entropy":
        Z, R_Z = AL, R_AL
        top = Z.max(axis=0, keepdims=True)
        log_sum = np.log(np.exp(Z - top).sum(axis=0, keepdims=True))
        log_softmax = Z - top - log_sum
        p = np.exp(log_softmax)
        spread = (p * R_Z).sum(axis=0, keepdims=True)
        R_log_softmax = np.abs(Z) + np.abs(top) + np.abs(log_sum) + R_Z + spread
        cost = -np.sum(Y * log_softmax) / m
        return (cost, float(np.sum(aY * R_log_softmax) / m), (p - Y) / m,
                (np.abs(p - Y) + p * (1 + R_Z + spread)) / m)
    return modern_loss(loss, AL, R_AL, Y, eps, _clamped_log)  # issue 17's losses; raises for an unknown name


# ------------------------------------------------------------------- forward + backward
def gradient_scales(config: ModelConfig, params: Params, X: np.ndarray, Y: np.ndarray,
                    R_params: Params | None = None):
    """``(forward AL, R_forward, R_cost, gradients, R_gradients)``, all float64 (gradients are the
    float64 values, used by the optimizer bound).

    ``R_params`` (optional, eps units like every R): how uncertain the parameters themselves are,
    for an optimizer iterate whose value two correct implementations may round differently (the
    initial parameters are exact: None). Propagated to first order: ``R_Z += R_W |A| + R_b``,
    ``R_dA_prev += R_W^T |dZ|`` and the l2 term's ``l2 R_W``."""
    L = config.n_layers
    W = {l: np.asarray(params[f"W{l}"], np.float64) for l in range(1, L + 1)}
    b = {l: np.asarray(params[f"b{l}"], np.float64) for l in range(1, L + 1)}

    def uncertainty(name: str, like: np.ndarray) -> np.ndarray:
        return np.asarray(R_params[name], np.float64) if R_params else np.zeros_like(like)

    R_W = {l: uncertainty(f"W{l}", W[l]) for l in W}
    R_b = {l: uncertainty(f"b{l}", b[l]) for l in b}
    A = {0: np.asarray(X, np.float64)}
    R_A = {0: np.zeros_like(A[0])}
    Z, R_Z, slope, R_slope = {}, {}, {}, {}
    for l in range(1, L + 1):
        Z[l] = W[l] @ A[l - 1] + b[l]
        R_Z[l] = np.abs(W[l]) @ (np.abs(A[l - 1]) + R_A[l - 1]) + np.abs(b[l]) + R_W[l] @ np.abs(A[l - 1]) + R_b[l]
        A[l], R_A[l], slope[l], R_slope[l] = _activation(config.activations[l - 1], Z[l], R_Z[l],
                                                           config.leaky_relu_alpha)
    Y64 = np.asarray(Y, np.float64)
    _, R_cost, dA, R_dA = _loss(config.loss, A[L], R_A[L], Y64, float(np.finfo(config.numpy_dtype).eps))
    R_cost += 0.5 * config.l2 * sum(float(np.sum(W[l] ** 2)) for l in W)
    m = A[0].shape[1]
    grads, R_grads = {}, {}
    for l in range(L, 0, -1):
        dZ, R_dZ = _activation_backward(config.activations[l - 1], A[l], R_A[l], slope[l], R_slope[l], dA, R_dA)
        if l == L and (config.activations[-1], config.loss) in FUSED:
            divisor = A[l].size if config.loss == "bce" else m
            dZ = (A[l] - Y64) / divisor
            R_dZ = np.maximum(R_dZ, (np.abs(A[l] - Y64) + R_A[l]) / divisor)
        grads[f"W{l}"] = dZ @ A[l - 1].T + config.l2 * W[l]
        R_grads[f"W{l}"] = ((np.abs(dZ) + R_dZ) @ np.abs(A[l - 1]).T + np.abs(dZ) @ R_A[l - 1].T
                            + config.l2 * (np.abs(W[l]) + R_W[l]))
        grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
        R_grads[f"b{l}"] = (np.abs(dZ) + R_dZ).sum(axis=1, keepdims=True)
        dA, R_dA = W[l].T @ dZ, np.abs(W[l]).T @ (np.abs(dZ) + R_dZ) + R_W[l].T @ np.abs(dZ)
    return A[L], R_A[L] + np.abs(A[L]), R_cost, grads, R_grads


def _activation_backward(name, A, R_A, slope, R_slope, dA, R_dA):
    if name == "softmax":
        s = (A * dA).sum(axis=0, keepdims=True)
        R_s = (np.abs(A * dA) + R_A * np.abs(dA) + A * R_dA).sum(axis=0, keepdims=True)
        return A * (dA - s), np.abs(A * (dA - s)) + R_A * np.abs(dA - s) + A * (np.abs(dA - s) + R_dA + R_s)
    rounding = 0.0 if name in EXACT and name != "leaky_relu" else np.abs(dA * slope)
    return dA * slope, rounding + R_dA * np.abs(slope) + np.abs(dA) * R_slope


# ---------------------------------------------------------------------------- optimizer
def _adam_ratio_bound(beta1: float, beta2: float, t: int) -> float:
    """The largest ``|m_hat| / sqrt(v_hat)`` Adam's averages allow after ``t`` steps (Cauchy-Schwarz:
    ``|sum a_j g_j| <= sqrt(sum a_j^2 / w_j) sqrt(sum w_j g_j^2)``)."""
    j = np.arange(1, t + 1)
    a = (1 - beta1) * beta1 ** (t - j)
    w = (1 - beta2) * beta2 ** (t - j)
    return float(np.sqrt(np.sum(a * a / w)) * np.sqrt(1 - beta2**t) / (1 - beta1**t))


def error_scales(config: ModelConfig, params: Params, X: np.ndarray, Y: np.ndarray) -> ErrorScales:
    """The magnitudes ``M`` of the module doc for every compared quantity of this model."""
    AL, M_forward, M_cost, grads, M_grads = gradient_scales(config, params, X, Y)
    opt = config.optimizer
    eps_dtype = float(np.finfo(config.numpy_dtype).eps)
    theta = {name: np.asarray(value, np.float64) for name, value in params.items()}
    displacement_scale = {name: np.zeros_like(value) for name, value in theta.items()}
    state: dict[str, dict[str, np.ndarray]] = {name: {} for name in theta}
    optimizer = opt.build()
    # The compared gradients are those at the initial parameters: keep their scales; the iterates'
    # gradient scales (grads_t, M_grads_t) only feed the optimizer's displacement bound.
    grads_t, M_grads_t = grads, M_grads
    for t in range(1, config.steps + 1):
        if t > 1:
            # The iterate is itself uncertain: each implementation stores theta_{t-1} rounded (eps
            # |theta| per step), and Adam can make the stored values differ by far more: an entry whose
            # gradient is at rounding level steps by up to +-lr in either implementation (its
            # displacement bound says so), and every later gradient sees that difference. SGD's step
            # error lr * err(g) is left out: it changes the next gradient by lr H err(g), no more than
            # that gradient's own rounding bound while lr |H| <= 1 (a stable step), and propagating
            # the worst-case M_g through lr would compound two worst cases (measured: a 3x loss of
            # float32 sensitivity to planted displacement errors, and no thorough-run failure needs it).
            R_theta = {name: (t - 1) * np.abs(theta[name])
                       + (displacement_scale[name] if opt.name in ADAPTIVE else 0.0) for name in theta}
            _, _, _, grads_t, M_grads_t = gradient_scales(config, theta, X, Y, R_params=R_theta)
        coupled_decay = 0.0 if opt.name == "adamw" else opt.weight_decay  # AdamW's is decoupled
        for name in theta:
            g = grads_t[name] + coupled_decay * theta[name]
            M_g = M_grads_t[name] + coupled_decay * np.abs(theta[name])
            displacement_scale[name] += _step_scale(opt, state[name], g, M_g, t, eps_dtype)
            if opt.name == "adamw":  # theta (1 - lr wd) vs theta - theta wd lr: one more rounding of theta
                displacement_scale[name] += np.abs(theta[name])
        theta = optimizer.step(theta, grads_t)
    underflow = _underflow(config)
    return ErrorScales(forward=M_forward + underflow, cost=M_cost + underflow,
                       gradients={name: value + underflow for name, value in M_grads.items()},
                       updated_params={name: value + underflow for name, value in displacement_scale.items()})


def gradient_error_scales(config: ModelConfig, params: Params, X: np.ndarray, Y: np.ndarray) -> Params:
    """``error_scales(...).gradients`` alone, without the optimizer steps' bounds (which cost a
    gradient-scale pass per step)."""
    *_, M_grads = gradient_scales(config, params, X, Y)
    underflow = _underflow(config)
    return {name: value + underflow for name, value in M_grads.items()}


def _underflow(config: ModelConfig) -> float:
    """Each operation may also lose up to the smallest normal number absolutely (flush to zero: TF's
    oneDNN kernels turn a float32 gradient of 2e-40 into 0). Error <= eps M + tiny, so M gains
    tiny / eps (1e-31 in float32, 1e-292 in float64: nothing next to normal values)."""
    info = np.finfo(config.numpy_dtype)
    return float(info.tiny) / float(info.eps)


def _step_scale(opt, state: dict[str, np.ndarray], g: np.ndarray, M_g: np.ndarray, t: int, eps_dtype: float):
    """Magnitude of one optimizer step of one tensor (``state`` carries the magnitude recursions)."""
    if opt.name == "sgd":
        if opt.momentum:
            state["buffer"] = M_g if t == 1 else opt.momentum * state["buffer"] + M_g
            direction = M_g + opt.momentum * state["buffer"] if opt.nesterov else state["buffer"]
        else:
            direction = M_g
        return opt.learning_rate * direction
    if opt.name in MODERN_ADAPTIVE:
        return modern_step_scale(opt, state, g, M_g, t, eps_dtype)
    if opt.name not in ("adam", "adamw"):  # AdamW's moments are Adam's; its decay is added by the caller
        raise ValueError(f"no error-scale rule for optimizer {opt.name!r}")
    b1, b2 = opt.beta1, opt.beta2
    if t == 1:
        state.update(m=np.zeros_like(g), v=np.zeros_like(g), M_m=np.zeros_like(g), M_v2=np.zeros_like(g))
    state["m"] = b1 * state["m"] + (1 - b1) * g
    state["v"] = b2 * state["v"] + (1 - b2) * g * g
    state["M_m"] = b1 * state["M_m"] + (1 - b1) * M_g
    state["M_v2"] = b2 * state["M_v2"] + (1 - b2) * M_g * M_g  # weighted sum of squared magnitudes
    m_hat = np.abs(state["m"]) / (1 - b1**t)
    M_m_hat = state["M_m"] / (1 - b1**t)
    root = np.sqrt(state["v"] / (1 - b2**t)) + opt.eps
    M_root = np.sqrt(state["M_v2"] / (1 - b2**t))
    # Adam's own arithmetic rounds about 12 times per step (m: 3, v: 4, bias corrections, sqrt, + eps,
    # the division, * lr), each by eps of the step's size: 12 |step| on top of the propagated part.
    step = opt.learning_rate * (ADAM_ROUNDINGS * m_hat / root + M_m_hat / root + m_hat * M_root / root**2)
    cap = 2 * opt.learning_rate * _adam_ratio_bound(b1, b2, t) / eps_dtype
    return np.minimum(step, cap)
