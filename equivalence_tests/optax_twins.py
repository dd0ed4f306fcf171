"""The JAX oracle's optimizers: optax transformations that mean what ``torch.optim`` (the reference) means.

One builder for every optimizer row of the op table, ``optax_transformation(fw, opt) -> optax
GradientTransformation`` (``fw`` has ``jax``, ``jnp`` and ``optax``; ``opt`` an
:class:`~equivalence_tests.config.OptimizerConfig`). What maps to what, each checked against
torch's formulas written out by hand in ``tests/oracles/test_jax_oracle.py``:

* SGD / momentum / Nesterov: ``optax.sgd``. Its trace ``t = g + mu t`` is torch's buffer (dampening
  0), its Nesterov update ``g + mu t`` torch's, and the learning rate scales the update after the
  momentum, as in torch;
* Adam: ``optax.adam`` (eps after the bias-corrected root, ``eps_root=0``): torch's formula;
* AdamW: ``optax.adamw``: ``theta - lr (adam + wd theta)`` is torch's ``theta (1 - lr wd) - lr adam``;
* RMSprop: ``optax.rmsprop(decay=alpha, eps_in_sqrt=False, centered, momentum)``: optax's default
  ``eps_in_sqrt=True`` divides by ``sqrt(v + eps)`` (Keras' placement); ``False`` is torch's
  ``sqrt(v) + eps``;
* Adagrad: optax.adagrad divides by ``sqrt(s + eps)`` with ``s`` from 0.1 and has no ``lr_decay``,
  so no optax.adagrad call means torch's Adagrad: the twin is torch's update written as an optax
  GradientTransformation (``s += g^2``; ``theta -= lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)``);
* weight decay (all but AdamW): optax.sgd/adam/rmsprop take none; torch's coupled decay
  ``g += wd theta`` on every parameter is ``add_decayed_weights(wd)`` chained before the optimizer.
"""

from __future__ import annotations

from typing import Any


def optax_transformation(fw: Any, opt: Any) -> Any:
    """The optax GradientTransformation for ``opt`` (module docstring)."""
    optax = fw.optax
    if opt.name == "adamw":
        return optax.adamw(opt.learning_rate, b1=opt.beta1, b2=opt.beta2, eps=opt.eps, weight_decay=opt.weight_decay)
    if opt.name == "adam":
        core = optax.adam(opt.learning_rate, b1=opt.beta1, b2=opt.beta2, eps=opt.eps)
    elif opt.name == "rmsprop":
        core = optax.rmsprop(opt.learning_rate, decay=opt.alpha, eps=opt.eps, eps_in_sqrt=False,
                             centered=opt.centered, momentum=opt.momentum or None)
    elif opt.name == "adagrad":
        core = torch_adagrad(fw, opt)
    elif opt.name == "sgd":
        core = optax.sgd(opt.learning_rate, momentum=opt.momentum or None, nesterov=opt.nesterov)
    else:
        raise ValueError(f"no optax twin for optimizer {opt.name!r}")
    return optax.chain(optax.add_decayed_weights(opt.weight_decay), core) if opt.weight_decay else core


def torch_adagrad(fw: Any, opt: Any) -> Any:
    """torch.optim.Adagrad's update (without weight decay) as an optax GradientTransformation."""
    jax, jnp, optax = fw.jax, fw.jnp, fw.optax
    tree_map = jax.tree_util.tree_map

    def init(params: Any) -> Any:
        sums = tree_map(lambda p: jnp.full_like(p, opt.initial_accumulator_value), params)
        return sums, jnp.zeros((), dtype=jnp.int32)

    def update(updates: Any, state: Any, params: Any = None) -> Any:
        sums, count = state
        sums = tree_map(lambda s, g: s + g * g, sums, updates)
        rate = opt.learning_rate / (1 + count * opt.lr_decay)  # count = t - 1 at step t
        updates = tree_map(lambda g, s: -rate * g / (jnp.sqrt(s) + opt.eps), updates, sums)
        return updates, (sums, count + 1)

    return optax.GradientTransformation(init, update)
