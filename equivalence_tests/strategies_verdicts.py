"""Hypothesis strategies for the verdict fuzzer: (loss, gradient) cases, one category at a time.

    verdict_cases("float32-inside")     -> VerdictRecipe; recipe.build() -> Case

A case is a small model (verdict_models.Chain: NumPy code + torch twin), its arrays, the entry
point it is checked through (``dict`` / ``grad_list``: check_gradients on a dict / a list of arrays
(``f(params)``, ``grad_f(params)`` returning the same container); ``list`` and ``value_and_grad``:
check_value_and_grad with a list / a dict; ``vjp``: check_vjp on forward/backward functions;
``layer``: check_layer on an object) and a planted bug or none (verdict_bugs.BUGS). As in
strategies.py, Hypothesis draws only small choices and a seed; the arrays are built by NumPy from
the seed, so a failing example prints as one line, ``VerdictRecipe(...).build()``.

Categories (CATEGORIES) fix one axis and draw the others:

    float64, float32, float32-inside, mixed   precision mode; normal magnitudes, smooth structure
    tiny, huge, saturated                     magnitude (loss scales 1e-30..1e-6 / 1e6..1e200,
                                              float32 1e6..1e30 where squares overflow; logits of
                                              50-300 and saturated hidden units); any precision
    kinks, ties, normalization                structure: exact ReLU zeros (convention > or >=),
                                              tied max pairs (first / split; tie_all is a bug),
                                              batch norm (centering: a bias before it has an
                                              exactly zero gradient); any precision
    garbage, first_call, nondeterministic     one bug each (or none), any precision
    layer_caches                              check_layer on layers that keep x / out / dx / dout

Everything else draws the generic bugs (GENERIC_BUGS) about half of the time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from equivalence_tests.verdict_bugs import GARBAGE, Probe
from equivalence_tests.verdict_models import Block, Chain

MODES = ("float64", "float32", "float32-inside", "mixed")
ENTRIES = ("dict", "list", "value_and_grad", "vjp", "layer", "grad_list")
HEADED = ("dict", "list", "value_and_grad", "grad_list")  # a scalar loss; vjp and layer check a chain's output
GENERIC_BUGS = ("one_element", "one_row", "x1.01", "x1.05", "x2", "sign", "transpose", "zero")
CATEGORIES = ("float64", "float32", "float32-inside", "mixed", "tiny", "huge", "saturated", "kinks", "ties",
              "normalization", "garbage", "first_call", "nondeterministic", "layer_caches")  # fmt: skip
# Loss scales c (loss * c): tiny and huge per precision. float32: 1e30 keeps the loss below
# float32's 3.4e38 while the squares of its gradients overflow (above 1.8e19).
TINY = {"float64": (1e-6, 1e-20, 1e-150, 1e-290), "low": (1e-6, 1e-12, 1e-20, 1e-30)}
HUGE = {"float64": (1e6, 1e20, 1e150, 1e200), "low": (1e6, 1e15, 1e25, 1e30)}


@dataclass(frozen=True)
class Case:
    """What verdict_fuzz.run_case needs: the model and point, the probe (bug + records), the entry."""

    category: str
    entry: str
    chain: Chain
    x: np.ndarray
    params: dict
    probe: Probe
    checked_keys: tuple
    layer_style: str
    returns_float: bool
    recipe: object


@dataclass(frozen=True)
class VerdictRecipe:
    """Every choice of one fuzzed case; ``build()`` makes the arrays from ``seed`` (deterministic)."""

    category: str
    entry: str
    mode: str
    magnitude: str  # "normal", "tiny", "huge", "saturated"
    structure: str  # "smooth", "kinks", "ties", "normalization"
    hidden: str  # "tanh", "sigmoid", "relu" (smooth and normalization)
    head: str
    bug: str | None
    bug_key: int  # index into the checked tensors (x first for vjp / layer)
    bug_size: float
    bug_index: int
    convention: str
    layer_style: str
    returns_float: bool
    n: int
    d: int
    h: int
    k: int
    scale: float
    seed: int
    style: str = "vectorized"  # "staged": sigmoid 1 / (1 + exp(-z)), batch norm step by step (verdict_models)

    def build(self) -> Case:
        rng = np.random.default_rng(self.seed)
        headed = self.entry in HEADED
        n, d, h, k = self.n, self.d, self.h, self.k
        x = rng.standard_normal((n, d))
        weight = 1.0 if self.magnitude != "saturated" else 20.0  # hidden tanh / sigmoid pinned at +-1 / 0, 1
        params = {"W1": rng.standard_normal((d, h)) * (weight / np.sqrt(d)), "b1": rng.uniform(-0.5, 0.5, h)}
        blocks = [Block("affine", ("W1", "b1"))]
        width = h
        if self.structure == "kinks":  # sample 0 all zeros and some biases 0: pre-activations exactly 0
            x[0] = 0.0
            params["b1"][rng.random(h) < 0.5] = 0.0
            params["b1"][0] = 0.0
            blocks.append(Block("relu", convention=self.convention))
        elif self.structure == "ties":
            blocks, width = self._ties(rng, x, params, headed)
        elif self.structure == "normalization":
            params.update(gamma1=rng.uniform(0.5, 1.5, h), beta1=rng.uniform(-0.5, 0.5, h))
            blocks.append(Block("batchnorm", ("gamma1", "beta1"), style=self.style))
            if headed:
                blocks.append(Block(self.hidden, style=self.style))
        else:
            blocks.append(Block(self.hidden, style=self.style))
        target = None
        if headed:
            logit = 60.0 if self.magnitude == "saturated" else 1.0  # |logits| ~ 50-300: saturated softmax / sigmoid
            params.update(W2=rng.standard_normal((width, k)) * (logit / np.sqrt(width)), b2=rng.uniform(-0.5, 0.5, k))
            blocks.append(Block("affine", ("W2", "b2")))
            target = {"softmax": rng.integers(0, k, n), "bce": (rng.random((n, k)) < 0.5).astype(float),
                      "mse": rng.standard_normal((n, k))}[self.head]  # fmt: skip
        x, params, target = self._precision(x, params, target)
        chain = Chain(blocks, self.head if headed else None, target, self.scale, self.mode)
        checked = tuple(params) if headed else ("x", *params)
        key = checked[self.bug_key % len(checked)]
        if self.bug == "transpose":  # only a square tensor can be transposed without a shape error
            key = next((k_ for k_ in checked if np.ndim(params.get(k_, x)) == 2
                        and np.shape(params.get(k_, x))[0] == np.shape(params.get(k_, x))[1]), key)  # fmt: skip
        if self.bug == "tie_all":
            for block in blocks:
                block.convention = "all" if block.kind == "maxpairs" else block.convention
        dtype = "float64" if self.mode == "float64" else "float32"
        garbage = GARBAGE[dtype][self.bug_index % 3]
        probe = Probe(self.bug, key, self.bug_size, self.bug_index, garbage, self.seed)
        return Case(self.category, self.entry, chain, x, params, probe, checked, self.layer_style, self.returns_float,
                    self)  # fmt: skip

    def _ties(self, rng, x, params, headed):
        """Max pairs after the affine layer with duplicated weight columns (every sample ties), or,
        for vjp / layer, sometimes on x itself with a blank background (zeros tie)."""
        h = self.h
        if not headed and self.seed % 2:
            x[:, : 2 * (x.shape[1] // 2)][rng.random(x.shape[0]) < 0.7] = 0.0
            params.clear()
            return [Block("maxpairs", convention=self.convention)], x.shape[1] // 2
        for j in range(0, h, 2):
            if j == 0 or rng.random() < 0.5:
                params["W1"][:, j + 1] = params["W1"][:, j]
                params["b1"][j + 1] = params["b1"][j]
        return [Block("affine", ("W1", "b1")), Block("maxpairs", convention=self.convention)], h // 2

    def _precision(self, x, params, target):
        if self.mode == "float32":
            cast = {k: v.astype(np.float32) for k, v in params.items()}
            if target is not None and target.dtype.kind == "f":
                target = target.astype(np.float32)
            return x.astype(np.float32), cast, target
        if self.mode == "mixed":  # x and W1 in float32, the rest float64
            params = dict(params, W1=params["W1"].astype(np.float32)) if "W1" in params else params
            return x.astype(np.float32), params, target
        return x, params, target


@st.composite
def verdict_cases(draw, category: str) -> VerdictRecipe:
    """A VerdictRecipe of ``category`` (module docstring); about half carry a planted bug."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}; got {category!r}")
    mode = category if category in MODES else draw(st.sampled_from(MODES))
    if category == "garbage" and draw(st.booleans()):  # float64 half the time: 1.26e252 is what np.empty held
        mode = "float64"
    low = "float64" if mode == "float64" else "low"
    magnitude = category if category in ("tiny", "huge", "saturated") else "normal"
    structure = category if category in ("kinks", "ties", "normalization") else "smooth"
    entry = "layer" if category == "layer_caches" else draw(st.sampled_from(ENTRIES))
    bugs = {"garbage": ("garbage",), "first_call": ("first_call",), "nondeterministic": ("nondeterministic",),
            "ties": (*GENERIC_BUGS, "tie_all", "tie_all")}.get(category, GENERIC_BUGS)  # fmt: skip
    bug = draw(st.sampled_from(bugs)) if draw(st.booleans()) else None
    ties = structure == "ties"
    hidden = draw(st.sampled_from(("tanh", "sigmoid") if magnitude == "saturated" else ("tanh", "sigmoid", "relu")))
    head = draw(st.sampled_from(("softmax", "bce", "mse")))
    d = 2 * draw(st.integers(1, 2)) if ties else draw(st.integers(1, 5))  # max pairs on x need an even width
    h = 2 * draw(st.integers(1, 3)) if ties else draw(st.integers(1, 5))
    if bug == "transpose":  # a square W1 (d, h)
        d = h = 2 * draw(st.integers(1, 2)) if ties else draw(st.integers(2, 4))
    scale = 1.0
    if magnitude == "tiny":
        scale = draw(st.sampled_from(TINY[low]))
    elif magnitude == "huge":
        scale = draw(st.sampled_from(HUGE[low]))
    return VerdictRecipe(
        category=category, entry=entry, mode=mode, magnitude=magnitude, structure=structure, hidden=hidden, head=head,
        bug=bug, bug_key=draw(st.integers(0, 5)), bug_size=draw(st.sampled_from((0.1, 1.0, 10.0, 0.02))),
        bug_index=draw(st.integers(0, 50)),
        convention=draw(st.sampled_from(("first", "split") if ties else ("gt", "ge"))),
        layer_style="caches" if category == "layer_caches" else draw(st.sampled_from(("params", "attributes"))),
        returns_float=draw(st.booleans()), n=draw(st.integers(2 if structure == "normalization" else 1, 6)),
        d=d, h=h, k=draw(st.integers(2 if head == "softmax" else 1, 4)), scale=scale,
        seed=draw(st.integers(0, 2**32 - 1)),
        style=draw(st.sampled_from(("vectorized", "staged"))),
    )  # fmt: skip
