"""Hypothesis strategies for networks, data and optimizers, in the reference's layout.

Longer than ~400 lines on purpose: every strategy of the project lives in this one module, named
after what it generates (the data-apis/array-api-tests layout), so a user imports them from one place.

Public, named after what they generate, meant for reuse::

    layer_dims()          (n0, n1, ..., nL): depth 1..6, widths 1..64 (small widths favoured)
    batch_sizes()         m >= 1, with m == 1 drawn often
    hidden_activations()  names of activations valid between layers (from the op table)
    losses()              loss names (from the op table)
    output_activations(loss)  activations valid before that loss (from the op table)
    dtypes()              "float64" / "float32"
    weight_scales()       "tiny", "classic", "he", "saturating" (see WEIGHT_SCALES)
    optimizer_configs()   OptimizerConfig for SGD (momentum, nesterov, weight decay) and Adam
    model_configs()       ModelConfig: dims, activations, loss, l2, optimizer, steps, dtype
    input_arrays(), target_arrays(loss, ...)   small arrays drawn element by element
    models()              a whole example: ModelExample(config, params, X, Y) + its recipe
    kink_models()         examples with exact zeros in relu / leaky_relu pre-activations

Speed: ``models()`` draws only small things with Hypothesis (dims, names, a seed, a few
categorical choices: the edge cases) and builds the arrays with NumPy from the seed
(:class:`ExampleRecipe`). A failing example therefore prints as one line of Python,
``ExampleRecipe(...).build()``, that rebuilds it exactly.

Bounds (no overflow by construction, no subnormals): inputs lie in [-3, 3]; weights are
normal with a scale-dependent standard deviation, truncated at 4 sigma; biases lie in [-0.5, 0.5]
before the kink adjustment; the depth is at most 6. The largest forward value is then about
(4 sigma n)^L |X|, far below float32's 3e38 for every scale below; values smaller than the dtype's
smallest normal number are flushed to zero.

Kinks: relu and leaky_relu are not differentiable at 0. ``models()`` keeps every pre-activation
of a relu / leaky_relu layer at least ``kink_margin(Z)`` away from 0 by shifting the bias of the
row (see :func:`keep_away_from_kinks`), so finite differences never straddle a kink and every
oracle agrees on the derivative. ``kink_models()`` does the opposite on purpose.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference_nn as rn
from equivalence_tests.config import ModelConfig, OptimizerConfig
from reference_nn import normalization

INPUT_BOUND = 3.0
BIAS_BOUND = 0.5
TRUNCATION_SIGMAS = 4.0
DEFAULT_MAX_DEPTH = 6
DEFAULT_MAX_WIDTH = 64
DEFAULT_MAX_BATCH = 16

# Standard deviation of W[l] (n_out, n_in) for each scale name.
WEIGHT_SCALES: dict[str, Any] = {
    # tiny: every layer shrinks its input ~1000x, so deep nets test gradients of 1e-15 size.
    "tiny": lambda n_in, n_out: 1e-3,
    # the classic course initialisation np.random.randn(n_out, n_in) * 0.01
    "classic": lambda n_in, n_out: 0.01,
    # He et al. 2015: keeps relu activations O(1) through depth
    "he": lambda n_in, n_out: float(np.sqrt(2.0 / n_in)),
    # pre-activations with standard deviation ~8 |x|: sigmoid'(8) = 3e-4 and tanh'(8) = 5e-7,
    # so hidden sigmoid / tanh units are saturated (float32 sigmoid rounds to 1 beyond ~17).
    "saturating": lambda n_in, n_out: float(8.0 / np.sqrt(n_in)),
}

# Kink margin: every relu / leaky_relu pre-activation satisfies |Z| >= margin, with
#   margin = KINK_MARGIN_ABSOLUTE + KINK_MARGIN_RELATIVE * sum_k |W_ik A_kj|.
# Why: a central difference (gradcheck and the finite-difference oracle evaluate in float64)
# steps h = 2^-18 ~ 3.8e-6 * max(1, |theta|). That moves a pre-activation by h times its
# sensitivity: O(1) for a bias, |A_prev| for a weight of the same layer, and for earlier layers
# a product of weights that grows with the same factors as Z's magnitude. 1e-3 absolute plus
# 1e-3 of the magnitude is > 250 such steps, so no central difference straddles a kink;
# Richardson's wider steps (from 2^-4) may, and its tableau then falls back to the central
# difference by itself. The relative part also dwarfs float32 rounding of Z (at most
# n eps |W||A| <= 64 * 1.2e-7 = 8e-6 of the magnitude), so frameworks that sum in different
# orders never disagree on a mask.
KINK_MARGIN_ABSOLUTE = 1e-3
KINK_MARGIN_RELATIVE = 1e-3
KINKED_ACTIVATIONS = ("relu", "leaky_relu")
# Also kept a margin away from 0, but without exact-zero kink examples (those need activations that are
# exact on dyadic inputs): selu's slope jumps from scale * alpha to scale there.
MARGIN_ACTIVATIONS = KINKED_ACTIVATIONS + ("selu",)
OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop", "adagrad")

# Outputs of the losses on probabilities (bce, cross_entropy) are kept inside
# [PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR] (see keep_probabilities_inside). The op table's domain
# is [1e-7, 1 - 1e-7]: Keras clips probabilities there, and torch's BCELoss clamps x(1-x) at
# 1e-12. The floor sits 100x inside (float64) so that k optimizer steps and finite-difference
# steps do not walk the outputs onto a clip; in float32, 1e-4 also keeps 1 - P resolved to
# 6e-8 / 1e-4 ~ 6e-4 relative, so log(1 - P) is not dominated by the rounding of P.
PROBABILITY_FLOOR = {"float64": 1e-5, "float32": 1e-4}


# ------------------------------------------------------------------------------ small parts
def layer_dims(
    min_depth: int = 1,
    max_depth: int = DEFAULT_MAX_DEPTH,
    min_width: int = 1,
    max_width: int = DEFAULT_MAX_WIDTH,
    n_out: int | None = None,
    min_n_out: int = 1,
) -> st.SearchStrategy[tuple[int, ...]]:
    """``(n0, n1, ..., nL)`` with ``L`` in [min_depth, max_depth] and each width in
    [min_width, max_width]; half the widths are drawn from the small end (<= 8) so that most
    examples stay fast. ``n_out`` fixes the last width; ``min_n_out`` bounds it below."""
    if not 1 <= min_depth <= max_depth:
        raise ValueError(f"need 1 <= min_depth <= max_depth, got min_depth={min_depth}, max_depth={max_depth}")
    if not 1 <= min_width <= max_width:
        raise ValueError(f"need 1 <= min_width <= max_width, got min_width={min_width}, max_width={max_width}")
    widths = st.one_of(st.integers(min_width, min(max_width, max(min_width, 8))), st.integers(min_width, max_width))
    last = st.just(n_out) if n_out is not None else st.integers(max(min_n_out, min_width), max(max_width, min_n_out))
    last = st.one_of(last, last.filter(lambda n: n <= 8)) if n_out is None else last

    @st.composite
    def draw_dims(draw):
        depth = draw(st.integers(min_depth, max_depth))
        inner = [draw(widths) for _ in range(depth)]  # n0 .. n_{L-1}
        return (*inner, draw(last))

    return draw_dims()


def batch_sizes(min_size: int = 1, max_size: int = DEFAULT_MAX_BATCH) -> st.SearchStrategy[int]:
    """Batch size ``m``; ``m == min_size`` (1 by default: the single-sample edge) is drawn often."""
    return st.one_of(st.just(min_size), st.integers(min_size, max_size))


def dtypes() -> st.SearchStrategy[str]:
    return st.sampled_from(["float64", "float32"])


def weight_scales() -> st.SearchStrategy[str]:
    return st.sampled_from(list(WEIGHT_SCALES))


def seeds() -> st.SearchStrategy[int]:
    return st.integers(0, 2**32 - 1)


def losses() -> st.SearchStrategy[str]:
    """Loss names from the op table."""
    return st.sampled_from(loss_names())


def hidden_activations(kink_free: bool = False) -> st.SearchStrategy[str]:
    """Activation names valid between two layers (from the op table). ``kink_free`` leaves out
    relu / leaky_relu (for properties that need a smooth network, e.g. complex step)."""
    names = hidden_activation_names()
    if kink_free:
        names = [name for name in names if name not in MARGIN_ACTIVATIONS]
    return st.sampled_from(names)


def output_activations(loss: str, kink_free: bool = False) -> st.SearchStrategy[str]:
    """Activation names valid right before ``loss`` (from the op table)."""
    names = output_activation_names(loss)
    if kink_free:
        names = [name for name in names if name not in MARGIN_ACTIVATIONS]
    if not names:
        raise ValueError(f"the op table lists no{' kink-free' if kink_free else ''} output activation for {loss!r}")
    return st.sampled_from(names)


def optimizer_configs(names: tuple[str, ...] = OPTIMIZER_NAMES) -> st.SearchStrategy[OptimizerConfig]:
    """SGD (plain, momentum, nesterov, weight decay), Adam, AdamW, RMSprop (centered, momentum) or
    Adagrad (lr_decay, initial accumulator), with torch.optim meanings."""
    sgd = st.builds(
        lambda lr, momentum, nesterov, decay: OptimizerConfig(
            "sgd", learning_rate=lr, momentum=momentum, nesterov=nesterov and momentum > 0, weight_decay=decay
        ),
        st.sampled_from([1e-3, 0.01, 0.1, 0.5]),
        st.sampled_from([0.0, 0.5, 0.9]),
        st.booleans(),
        st.sampled_from([0.0, 1e-3, 0.1]),
    )
    adam = st.builds(
        lambda lr, beta1, beta2, eps, decay: OptimizerConfig(
            "adam", learning_rate=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=decay
        ),
        st.sampled_from([1e-4, 1e-3, 0.01]),
        st.sampled_from([0.9, 0.5, 0.0]),
        st.sampled_from([0.999, 0.9]),
        st.sampled_from([1e-8, 1e-6]),
        st.sampled_from([0.0, 1e-2]),
    )
    adamw = st.builds(
        lambda lr, beta1, decay: OptimizerConfig("adamw", learning_rate=lr, beta1=beta1, weight_decay=decay),
        st.sampled_from([1e-4, 1e-3, 0.01]),
        st.sampled_from([0.9, 0.5]),
        st.sampled_from([0.0, 0.01, 0.1]),
    )
    rmsprop = st.builds(
        lambda lr, alpha, eps, momentum, centered, decay: OptimizerConfig(
            "rmsprop", learning_rate=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered, weight_decay=decay
        ),
        st.sampled_from([1e-4, 1e-3, 0.01]),
        st.sampled_from([0.99, 0.9]),
        st.sampled_from([1e-8, 1e-6]),
        st.sampled_from([0.0, 0.5]),
        st.booleans(),
        st.sampled_from([0.0, 1e-2]),
    )
    adagrad = st.builds(
        lambda lr, lr_decay, initial, eps, decay: OptimizerConfig(
            "adagrad", learning_rate=lr, lr_decay=lr_decay, initial_accumulator_value=initial, eps=eps,
            weight_decay=decay
        ),
        st.sampled_from([1e-3, 0.01, 0.1]),
        st.sampled_from([0.0, 0.01]),
        st.sampled_from([0.0, 0.1]),
        st.sampled_from([1e-10, 1e-7]),
        st.sampled_from([0.0, 1e-2]),
    )
    chosen = {"sgd": sgd, "adam": adam, "adamw": adamw, "rmsprop": rmsprop, "adagrad": adagrad}
    unknown = set(names) - set(chosen)
    if unknown or not names:
        raise ValueError(f"names must be a non-empty subset of {tuple(chosen)}, got {names!r}")
    return st.one_of([chosen[name] for name in names])


def input_arrays(n_features: int, batch: int, dtype: str = "float64") -> st.SearchStrategy[np.ndarray]:
    """``X (n_features, batch)`` drawn element by element in [-3, 3] (no NaN, inf or subnormal)."""
    return hnp.arrays(
        np.dtype(dtype),
        (n_features, batch),
        elements=st.floats(-INPUT_BOUND, INPUT_BOUND, allow_subnormal=False, width=np.dtype(dtype).itemsize * 8),
    )


def target_arrays(loss: str, n_out: int, batch: int, dtype: str = "float64") -> st.SearchStrategy[np.ndarray]:
    """``Y (n_out, batch)`` valid for ``loss``, from the op table's target generator and a seed."""
    return seeds().map(lambda seed: targets(loss, (n_out, batch), np.dtype(dtype), np.random.default_rng(seed)))


# ---------------------------------------------------------------------------------- configs
@st.composite
def model_configs(
    draw,
    loss: str | st.SearchStrategy[str] | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_width: int = DEFAULT_MAX_WIDTH,
    dtype: str | None = None,
    kink_free: bool = False,
    optimizers: tuple[str, ...] = OPTIMIZER_NAMES,
    max_steps: int = 3,
    hidden: st.SearchStrategy[str] | None = None,
    normalizations: tuple[str | None, ...] = (None,),
) -> ModelConfig:
    """A :class:`ModelConfig`: dims, hidden and output activations valid for the loss, l2,
    optimizer, number of steps (1..max_steps), dtype, leaky_relu slope; ``normalizations``: the
    choices for ``ModelConfig.normalization`` (a normalized model gets kink-free hidden activations:
    the kink margin is set through the bias, which a normalized layer does not have) and a
    train or eval ``normalization_mode``."""
    loss_name = draw(loss if isinstance(loss, st.SearchStrategy) else (st.just(loss) if loss else losses()))
    output = draw(output_activations(loss_name, kink_free))
    dims = draw(layer_dims(max_depth=max_depth, max_width=max_width, min_n_out=minimum_outputs(loss_name, output)))
    normalization = draw(st.sampled_from(normalizations))
    # LayerNorm over 1 or 2 features is degenerate: the normalized values are 0 or +-1 whatever W is, so W's
    # gradient is 0 (up to eps) in theory and rounding noise in every implementation: widths >= 3.
    assume(normalization != "layer" or min(dims[1:-1], default=3) >= 3)
    # A normalized layer's output does not change when a row of W is scaled, so that row's gradient is
    # orthogonal to it: with one input (n_in = 1) it is 0 in theory and rounding noise in practice.
    assume(normalization is None or min(dims[:-2], default=2) >= 2)
    hidden_names = hidden if hidden is not None else hidden_activations(kink_free or normalization is not None)
    if normalization is not None and hidden is None:
        # an identity between two BatchNorms passes beta on to a mean subtraction that removes it: beta's
        # gradient is 0 in theory and rounding noise in practice
        hidden_names = hidden_names.filter(lambda name: name != "identity")
    activations = (*(draw(hidden_names) for _ in range(len(dims) - 2)), output)
    return ModelConfig(
        layer_dims=dims,
        activations=activations,
        loss=loss_name,
        l2=draw(st.sampled_from([0.0, 0.0, 1e-3, 0.1])),
        optimizer=draw(optimizer_configs(optimizers)),
        steps=draw(st.integers(1, max_steps)),
        dtype=dtype or draw(dtypes()),
        leaky_relu_alpha=draw(st.sampled_from([0.01, 0.2])),
        normalization=normalization,
        normalization_mode=draw(st.sampled_from(["train", "eval"])) if normalization else "train",
    )


# --------------------------------------------------------------------------------- examples
INPUT_KINDS = ("normal", "uniform", "sparse", "repeated_column")
BIAS_KINDS = ("small", "zero")


@dataclass(frozen=True)
class ExampleRecipe:
    """Everything needed to rebuild an example: ``ExampleRecipe(...).build()`` is deterministic.

    ``input_kind``: "normal" (N(0,1) truncated to [-3, 3]), "uniform" (U[-3, 3]), "sparse"
    (half the entries exactly 0), "repeated_column" (every sample equals the first).
    ``bias_kind``: "small" (U[-0.5, 0.5]) or "zero" (the classic initialisation).
    ``kinks``: False keeps relu / leaky_relu pre-activations a margin away from 0; True builds
    dyadic parameters and inputs with exact zeros there (see :func:`build_kink_example`), forced in
    the first ``kink_layers`` relu / leaky_relu layers.
    """

    config: ModelConfig
    batch_size: int
    seed: int
    weight_scale: str = "he"
    input_kind: str = "normal"
    bias_kind: str = "small"
    kinks: bool = False
    kink_layers: int = 3

    def build(self) -> ModelExample:
        return build_example(self)

    def reproducer(self) -> str:
        """One line of Python that rebuilds this example."""
        return (
            "from equivalence_tests.config import ModelConfig, OptimizerConfig; "
            "from equivalence_tests.strategies import ExampleRecipe; "
            f"example = {self!r}.build()"
        )


@dataclass(frozen=True, eq=False)
class ModelExample:
    """A configuration with concrete arrays: ``params`` ({"W1": (n1, n0), "b1": (n1, 1), ...}),
    ``X (n0, m)``, ``Y (nL, m)`` in ``config.dtype``; ``kink_points`` lists ``(layer, row, column)``
    of pre-activations that are exactly 0 (empty unless built by ``kink_models()``)."""

    recipe: ExampleRecipe
    params: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    kink_points: tuple[tuple[int, int, int], ...] = field(default=())

    @property
    def config(self) -> ModelConfig:
        return self.recipe.config

    @property
    def separable_kinks(self) -> bool:
        """All exact zeros in one layer, at most one per row: then any single parameter moves at most
        one zero pre-activation per unit, so the documented one-sided slope is one that a numerical
        derivative can see (chained kinks can combine slopes no single perturbation reaches)."""
        layers = {layer for layer, _, _ in self.kink_points}
        rows = [(layer, row) for layer, row, _ in self.kink_points]
        return len(layers) <= 1 and len(rows) == len(set(rows))

    def describe(self) -> str:
        """``config.describe()`` plus batch size, weight scale and input kind."""
        recipe = self.recipe
        return (
            f"{self.config.describe()} m={recipe.batch_size} weights={recipe.weight_scale} "
            f"inputs={recipe.input_kind} biases={recipe.bias_kind}"
        )

    def shapes(self) -> str:
        parts = [f"X{self.X.shape}", f"Y{self.Y.shape}"] + [f"{k}{v.shape}" for k, v in self.params.items()]
        return " ".join(parts)

    def with_config(self, **changes: Any) -> ModelExample:
        """The same arrays under a config with ``changes`` (e.g. ``l2=0.0``)."""
        recipe = dataclasses.replace(self.recipe, config=dataclasses.replace(self.config, **changes))
        return dataclasses.replace(self, recipe=recipe)


def _note_example(example: ModelExample) -> None:
    note(f"model: {example.describe()}")
    note(f"shapes: {example.shapes()}")
    note(f"reproducer: {example.recipe.reproducer()}")


@st.composite
def models(
    draw,
    configs: st.SearchStrategy[ModelConfig] | None = None,
    max_batch: int = DEFAULT_MAX_BATCH,
    scales: st.SearchStrategy[str] | None = None,
    max_parameters: int | None = None,
) -> ModelExample:
    """A whole example: ModelConfig + params + X + Y, relu / leaky_relu pre-activations kept a
    margin away from 0, output logits bounded for the probability losses.

    ``max_parameters`` rejects bigger networks (for oracles whose cost grows with the number of
    parameters, like finite differences). The configuration and a reproducer are ``note()``d,
    so a failure prints them.
    """
    config = draw(configs if configs is not None else model_configs())
    if max_parameters is not None:
        assume(parameter_count(config.layer_dims) <= max_parameters)
    recipe = ExampleRecipe(
        config=config,
        # batch statistics need two samples (the running variance divides by m - 1); with two the normalized
        # values are +-1 whatever W is (W's gradient ~0 in theory, rounding noise in practice): m >= 3
        batch_size=draw(batch_sizes(3 if config.normalization == "batch" else 1, max(max_batch, 3))),
        seed=draw(seeds()),
        weight_scale=draw(scales if scales is not None else weight_scales()),
        # identical samples have batch variance 0: BatchNorm maps them to beta whatever W is (W's gradient is 0)
        input_kind=draw(st.sampled_from([kind for kind in INPUT_KINDS
                                         if not (config.normalization == "batch" and kind == "repeated_column")])),
        bias_kind=draw(st.sampled_from(BIAS_KINDS)),
    )
    example = recipe.build()
    _note_example(example)
    return example


@st.composite
def kink_models(draw, max_batch: int = 6, loss: str | st.SearchStrategy[str] | None = None,
                dtype: str | None = None, kink_layers: int = 3) -> ModelExample:
    """Examples whose relu / leaky_relu layers have pre-activations that are exactly 0.

    Parameters and inputs are small dyadic rationals (multiples of 1/4 and 1/2), so every
    product and sum is exact in float32 and float64 whatever the summation order: the zeros are
    exact zeros in every framework, not 1e-17. Depth <= 3, widths <= 6, hidden activations
    from relu / leaky_relu / identity with leaky slope 0.25 (dyadic, keeps values exact). Zeros
    are forced in the first ``kink_layers`` relu / leaky_relu layers (others may hold zeros by chance).
    """
    config = draw(
        model_configs(
            loss=loss,
            max_depth=3,
            max_width=6,
            dtype=dtype,
            hidden=st.sampled_from(["relu", "leaky_relu", "identity"]),
            max_steps=1,
            optimizers=("sgd",),
        )
    )
    first = st.sampled_from(["relu", "leaky_relu"])
    activations = config.activations
    if len(activations) > 1 and activations[0] not in KINKED_ACTIVATIONS:
        activations = (draw(first), *activations[1:])
    elif len(activations) == 1 and activations[0] not in KINKED_ACTIVATIONS:
        assume(False)  # a one-layer network with a smooth output has no kink to aim at
    config = dataclasses.replace(config, activations=activations, leaky_relu_alpha=0.25, l2=0.0)
    recipe = ExampleRecipe(config=config, batch_size=draw(batch_sizes(1, max_batch)), seed=draw(seeds()), kinks=True,
                           kink_layers=kink_layers)
    example = recipe.build()
    assume(example.kink_points)
    _note_example(example)
    return example


# ============================================================================ op-table adapter
# The op table (equivalence_tests.ops) says which activations and losses exist, which output
# activations fit a loss and how to draw valid targets. These thin functions are the only place
# this module reads it.
def _ops():
    from equivalence_tests import ops

    return ops


def loss_names() -> list[str]:
    return [row.name for row in _ops().ops_of_kind("loss")]


def hidden_activation_names() -> list[str]:
    """Every activation row of the op table (all of them are valid between layers)."""
    return [row.name for row in _ops().ops_of_kind("activation")]


def output_activation_names(loss: str) -> list[str]:
    return list(_ops().valid_output_activations(loss))


def minimum_outputs(loss: str, output_activation: str) -> int:
    """Smallest output width that makes sense (op table's min_outputs: 2 for the categorical
    losses and after a softmax, whose single output would be the constant 1)."""
    return _ops().min_outputs(loss, output_activation)


def targets(loss: str, shape: tuple[int, int], dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """``Y`` of ``shape (nL, m)`` and ``dtype`` valid for ``loss`` (the op table's valid_targets)."""
    return _ops().valid_targets(loss, shape, rng, np.dtype(dtype).name)


# ================================================================================ builders
def parameter_count(dims: tuple[int, ...]) -> int:
    """Number of scalars in W1, b1, ..., WL, bL for ``dims = (n0, ..., nL)``."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(dims[:-1], dims[1:], strict=False))


def _flush_subnormals(array: np.ndarray) -> np.ndarray:
    tiny = np.finfo(array.dtype).tiny
    return np.where(np.abs(array) < tiny, array.dtype.type(0), array)


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(rng.standard_normal(shape), -TRUNCATION_SIGMAS, TRUNCATION_SIGMAS)


def _inputs(recipe: ExampleRecipe, rng: np.random.Generator) -> np.ndarray:
    shape = (recipe.config.layer_dims[0], recipe.batch_size)
    kind = recipe.input_kind
    if kind == "normal":
        X = np.clip(rng.standard_normal(shape), -INPUT_BOUND, INPUT_BOUND)
    elif kind == "uniform":
        X = rng.uniform(-INPUT_BOUND, INPUT_BOUND, shape)
    elif kind == "sparse":
        X = np.clip(rng.standard_normal(shape), -INPUT_BOUND, INPUT_BOUND) * (rng.random(shape) < 0.5)
    elif kind == "repeated_column":
        X = np.repeat(np.clip(rng.standard_normal((shape[0], 1)), -INPUT_BOUND, INPUT_BOUND), shape[1], axis=1)
    else:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {kind!r}")
    return X


def _activation(config: ModelConfig, layer: int) -> rn.Activation:
    return config.activation_objects()[layer - 1]


def kink_margin(W: np.ndarray, A_prev: np.ndarray) -> np.ndarray:
    """Required distance of each pre-activation of ``W A_prev + b`` from 0, shape ``(n_out, m)``."""
    magnitude = np.abs(W).astype(np.float64) @ np.abs(A_prev).astype(np.float64)
    return KINK_MARGIN_ABSOLUTE + KINK_MARGIN_RELATIVE * magnitude


def keep_away_from_kinks(W: np.ndarray, A_prev: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A new bias ``b' (n_out, 1)`` (float64) with ``|W A_prev + b'| >= kink_margin(W, A_prev)``.

    Per row, the m pre-activations ``p_j`` must avoid the band ``|p_j + s| < margin_j``. The
    smallest admissible shift ``s`` is 0 or one of the band edges ``-p_j +- margin_j`` (the
    admissible set is a union of intervals whose finite ends are those edges), so all 2m + 1
    candidates are tried and the smallest admissible one is kept. Deterministic, always succeeds,
    and moves only the rows that came near the kink, by as little as possible.
    """
    Z = W.astype(np.float64) @ A_prev.astype(np.float64) + b.astype(np.float64)  # (n_out, m)
    margin = kink_margin(W, A_prev)
    # Edges 1% outside the band, so that rounding b' to float32 cannot put a Z back inside.
    edge = 1.01 * margin
    candidates = np.concatenate([np.zeros((Z.shape[0], 1)), -Z - edge, -Z + edge], axis=1)  # (n_out, 2m+1)
    shifted = Z[:, None, :] + candidates[:, :, None]  # (n_out, 2m+1, m)
    admissible = (np.abs(shifted) >= margin[:, None, :]).all(axis=2)
    cost = np.where(admissible, np.abs(candidates), np.inf)
    best = candidates[np.arange(Z.shape[0]), cost.argmin(axis=1)]
    return b.astype(np.float64) + best[:, None]


def keep_probabilities_inside(config: ModelConfig, W: np.ndarray, A_prev: np.ndarray, b: np.ndarray):
    """``(W, b)`` of the last layer halved until every output lies in
    ``[PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR]``, for the losses on probabilities (bce,
    cross_entropy); unchanged for the others. Halving is exact (kink examples stay dyadic) and
    ends: at Z = 0 a sigmoid gives 1/2 and a softmax over n >= 2 units gives 1/n >= 1/64."""
    if not _ops().op(config.loss).domain.startswith("AL probabilit"):
        return W, b
    floor = PROBABILITY_FLOOR[config.dtype]
    activation = config.activation_objects()[-1]
    for _ in range(64):
        P = activation.evaluate(W.astype(np.float64) @ A_prev.astype(np.float64) + b)
        if P.min() >= floor and P.max() <= 1 - floor:
            return W, b
        W, b = W / 2, b / 2
    raise ValueError(f"cannot keep the outputs of {config.describe()} inside [{floor}, {1 - floor}]")


def _check_recipe(recipe: ExampleRecipe) -> None:
    if not isinstance(recipe.config, ModelConfig):
        raise TypeError(f"recipe.config must be a ModelConfig, got {type(recipe.config).__name__}")
    if recipe.batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {recipe.batch_size}")
    if recipe.weight_scale not in WEIGHT_SCALES:
        raise ValueError(f"weight_scale must be one of {tuple(WEIGHT_SCALES)}, got {recipe.weight_scale!r}")
    if recipe.bias_kind not in BIAS_KINDS:
        raise ValueError(f"bias_kind must be one of {BIAS_KINDS}, got {recipe.bias_kind!r}")
    if recipe.input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {recipe.input_kind!r}")


def build_example(recipe: ExampleRecipe) -> ModelExample:
    """The arrays of ``recipe`` (deterministic in the recipe; see ExampleRecipe)."""
    _check_recipe(recipe)
    if recipe.kinks:
        return build_kink_example(recipe)
    config = recipe.config
    dtype = config.numpy_dtype
    dims = config.layer_dims
    rng = np.random.default_rng(recipe.seed)
    std_of = WEIGHT_SCALES[recipe.weight_scale]
    X = _flush_subnormals(_inputs(recipe, rng).astype(dtype))
    params: dict[str, np.ndarray] = {}
    A = X
    for layer, activation in enumerate(config.activation_objects(), start=1):
        n_in, n_out = dims[layer - 1], dims[layer]
        W = _flush_subnormals((_truncated_normal(rng, (n_out, n_in)) * std_of(n_in, n_out)).astype(dtype))
        if recipe.bias_kind == "small":
            b = rng.uniform(-BIAS_BOUND, BIAS_BOUND, (n_out, 1))
        else:
            b = np.zeros((n_out, 1))
        if config.is_normalized(layer):  # gamma around 1 and beta for the bias: see _normalized_layer
            A = _normalized_layer(config, layer, W, A, b, params, activation)
            continue
        if layer == config.n_layers:
            W, b = keep_probabilities_inside(config, W, A, b)
        if activation.name in MARGIN_ACTIVATIONS:
            b = keep_away_from_kinks(W, A, b)
        b = _flush_subnormals(b.astype(dtype))
        params[f"W{layer}"], params[f"b{layer}"] = W, b
        A = activation.evaluate(W @ A + b)
    Y = targets(config.loss, (dims[-1], recipe.batch_size), dtype, rng)
    return ModelExample(recipe, params, X, Y)


def _normalized_layer(config: ModelConfig, layer: int, W: np.ndarray, A: np.ndarray, b: np.ndarray,
                      params: dict[str, np.ndarray], activation: rn.Activation) -> np.ndarray:
    """Store ``W{layer}``, ``gamma{layer} = 1 + b`` and ``beta{layer} = b`` (the drawn bias) for a normalized
    hidden layer, and return its output as the config's mode computes it (eval: the statistics after one
    training-mode pass, as ModelConfig defines them)."""
    dtype = config.numpy_dtype
    gamma, beta = _flush_subnormals((1.0 + b).astype(dtype)), _flush_subnormals(b.astype(dtype))
    params[f"W{layer}"], params[f"gamma{layer}"], params[f"beta{layer}"] = W, gamma, beta
    Z = W.astype(np.float64) @ A
    spec = config.normalization_spec()
    axis = normalization.FEATURE_AXIS if spec.kind == "layer" else normalization.BATCH_AXIS
    fixed = None
    if spec.kind == "batch" and config.normalization_mode == "eval":
        _, _, mean, var = normalization.normalize_forward(Z, gamma, beta, axis, spec.eps)
        fixed = normalization.update_running_stats(np.zeros_like(mean), np.ones_like(var), mean, var, Z.shape[1],
                                                   spec.momentum)
    out, _, _, _ = normalization.normalize_forward(Z, gamma.astype(np.float64), beta.astype(np.float64), axis,
                                                   spec.eps, fixed=fixed)
    return activation.evaluate(out)


# Dyadic grids of the kink examples: W in {-1, -3/4, ..., 1}, X in {-3, -5/2, ..., 3}, b on
# quarters. With widths <= 6, depth <= 3 and leaky slope 1/4 every value needs at most 21
# significant bits (float32 has 24), so every product and partial sum is exact.
_KINK_WEIGHT_STEPS, _KINK_INPUT_STEPS = 4, 2
_EXACT_ACTIVATIONS = ("relu", "leaky_relu", "identity")


def build_kink_example(recipe: ExampleRecipe) -> ModelExample:
    """Dyadic parameters and inputs; in each relu / leaky_relu layer whose input is exact, most
    rows get a bias that makes one pre-activation exactly 0. ``kink_points`` lists every exact
    zero ``(layer, row, column)`` of those layers."""
    config = recipe.config
    if config.leaky_relu_alpha != 0.25 and "leaky_relu" in config.activations:
        raise ValueError(f"kink examples need leaky_relu_alpha=0.25 (dyadic), got {config.leaky_relu_alpha}")
    if config.n_layers > 3 or max(config.layer_dims) > 6:
        raise ValueError(f"kink examples need depth <= 3 and widths <= 6 to stay exact, got {config.layer_dims}")
    dtype = config.numpy_dtype
    dims = config.layer_dims
    rng = np.random.default_rng(recipe.seed)
    grid = 3 * _KINK_INPUT_STEPS
    X = rng.integers(-grid, grid + 1, (dims[0], recipe.batch_size)) / _KINK_INPUT_STEPS
    params: dict[str, np.ndarray] = {}
    kink_points: list[tuple[int, int, int]] = []
    A, exact, forced = X, True, 0
    for layer, activation in enumerate(config.activation_objects(), start=1):
        n_in, n_out = dims[layer - 1], dims[layer]
        W = rng.integers(-_KINK_WEIGHT_STEPS, _KINK_WEIGHT_STEPS + 1, (n_out, n_in)) / _KINK_WEIGHT_STEPS
        b = rng.integers(-4, 5, (n_out, 1)) / 4.0
        if layer == config.n_layers:
            W, b = keep_probabilities_inside(config, W, A, b)
        if exact and activation.name in KINKED_ACTIVATIONS:
            products = W @ A  # exact: dyadic with few bits
            rows = np.flatnonzero(rng.random(n_out) < 0.75)
            columns = rng.integers(0, recipe.batch_size, rows.size)
            if forced < recipe.kink_layers:
                b[rows, 0] = -products[rows, columns]
                forced += 1
            Z = products + b
            kink_points += [(layer, int(i), int(j)) for i, j in np.argwhere(Z == 0)]
        elif activation.name in MARGIN_ACTIVATIONS:  # selu: a kink the example does not list; keep Z off it
            b = keep_away_from_kinks(W, A, b)
        params[f"W{layer}"], params[f"b{layer}"] = W.astype(dtype), b.astype(dtype)
        A = activation.evaluate(W @ A + b)
        exact = exact and activation.name in _EXACT_ACTIVATIONS
    Y = targets(config.loss, (dims[-1], recipe.batch_size), dtype, rng)
    return ModelExample(recipe, params, X.astype(dtype), Y, tuple(kink_points))
