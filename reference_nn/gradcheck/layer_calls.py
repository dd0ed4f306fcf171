"""How check_layer calls a layer the way its author wrote it.

* method names: ``forward="forward_pass", backward="backward_pass"`` (defaults forward/backward);
* inputs: float arrays are differentiated, a list (or tuple) of float arrays too, element by
  element (``inputs[0]``, ``inputs[1]``: a concatenation layer's ``forward([a, b])``), anything
  else (ints, masks, config dicts) passed unchanged; keyword arguments of forward
  (``training=True``) passed on every call;
* outputs: forward may return one array, a tuple of outputs, or (out, ..., cache) for a backward
  that takes the cache back; only as many outputs are driven as backward takes upstream gradients
  (``forward -> (out, attention_map)`` with ``backward(dout)``: out only, a note names the rest);
* book style: a forward returning None stores ``self.output``; a backward returning None stores
  ``self.dinputs``;
* a learning-rate argument (``backward(grad, learning_rate)``) or an optimizer attribute the
  backward calls: layer_step.py recovers the parameter gradients from the update.
"""

from __future__ import annotations

import inspect

import numpy as np

from . import layer_step as step
from .arguments import argument_names, fresh, is_differentiable, user_call
from .discovery import STORED_INPUT_GRADIENT
from .vjp import _assign

INPUT = "input"
# Where a book-style layer keeps the output its forward returns None instead of.
STORED_OUTPUT = "output"
# Methods that clear what a layer accumulates between updates (gradients, stored inputs), as
# torch-like and some from-scratch libraries have: called before every forward of the check, so
# each backward reports the gradient of one forward/backward pass.
RESET_METHODS = ("zero_grad", "zero_grads", "zero_gradients", "flush_gradients")


def is_array_list(value) -> bool:
    """A list or tuple of float arrays (a layer taking several tensors as one argument)."""
    return isinstance(value, list | tuple) and len(value) > 0 and all(is_differentiable(v) for v in value)


class LayerCalls:
    """The layer's forward and backward as check_layer calls them; see the module docstring."""

    def __init__(self, layer, inputs: tuple, forward: str, backward: str, forward_kwargs: dict,
                 learning_rate: str | None):
        for role, method in (("forward", forward), ("backward", backward)):
            if not callable(getattr(layer, method, None)):
                hint = f" (name it: {role}=...)" if method == role else ""
                raise TypeError(f"layer must have a {method} method{hint}; {type(layer).__name__} has none")
        self.layer, self.inputs, self.kwargs = layer, inputs, forward_kwargs
        self.forward, self.backward = getattr(layer, forward), getattr(layer, backward)
        self.names = [INPUT] if len(inputs) == 1 else argument_names(self.forward, len(inputs))
        self.positions = [i for i, v in enumerate(inputs) if is_differentiable(v) or is_array_list(v)]
        self.leaves: dict[str, tuple[int, int | None]] = {}  # input key -> (position, index in its list or None)
        for i in self.positions:
            if is_array_list(inputs[i]):
                self.leaves.update({f"{self.names[i]}[{j}]": (i, j) for j in range(len(inputs[i]))})
            else:
                self.leaves[self.names[i]] = (i, None)
        self.reset = next((m for m in RESET_METHODS if callable(getattr(layer, m, None))), None)
        self.cache = False  # forward returns (out, ..., cache) and backward takes (dout, ..., cache)
        self.stored = {"output": False, "dinputs": False}
        self.douts: list = []  # the upstream gradients backward gets (as many as it takes)
        self.rate_name = step.step_argument(self.backward, 1, learning_rate)
        self.rate = step.DISCOVERY_RATE
        self.optimizers = step.optimizer_attributes(layer) if self.rate_name is None else []
        self.captured: dict = {}  # optimizer mode: what the recorder kept on the last backward
        self.state: step.LayerState | None = None  # step mode: put back before every call (by the caller)
        self.recovered: dict = {}  # step mode: the gradients the last step took

    # ------------------------------------------------------------------ forward
    def arguments(self, theta) -> list:
        args = []
        for i, value in enumerate(self.inputs):
            if i not in self.positions:
                args.append(fresh(value))
            elif is_array_list(value):
                items = [np.array(theta[f"{self.names[i]}[{j}]"], copy=True) for j in range(len(value))]
                args.append(items if isinstance(value, list) else tuple(items))
            else:
                args.append(np.array(theta[self.names[i]], copy=True))
        return args

    def forward_and_cache(self, theta) -> tuple[list, tuple]:
        if self.reset:
            user_call(getattr(self.layer, self.reset), "f")
        kwargs = {k: fresh(v) for k, v in self.kwargs.items()}
        result = user_call(self.forward, "f", *self.arguments(theta), **kwargs)
        if result is None:
            result, self.stored["output"] = self._stored_output(), True
        if not isinstance(result, tuple):
            return [result], ()
        return (list(result[:-1]), (result[-1],)) if self.cache else (list(result), ())

    def run_forward(self, theta) -> list:
        return self.forward_and_cache(theta)[0]

    def _stored_output(self):
        if not hasattr(self.layer, STORED_OUTPUT):
            raise ValueError(f"{type(self.layer).__name__}.forward returned None and set no layer.{STORED_OUTPUT}: "
                             "expected it to return its output, or to store it in self.output (the book style)")
        return getattr(self.layer, STORED_OUTPUT)

    def accepted_upstream(self, n_outputs: int) -> int:
        """How many upstream gradients backward takes: its required positional parameters, less the
        cache and the learning rate; every output where the signature cannot tell."""
        try:
            parameters = list(inspect.signature(self.backward).parameters.values())
        except (TypeError, ValueError):
            return n_outputs
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            return n_outputs
        required = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                    and p.default is p.empty and p.name != self.rate_name]
        return max(1, min(n_outputs, len(required) - (1 if self.cache else 0)))

    # ------------------------------------------------------------------ backward
    def run_backward(self, theta, douts=None, before_backward=None):
        """forward then backward at ``theta``; returns backward's value (the input gradient(s))."""
        _, cache = self.forward_and_cache(theta)
        if self.stored["dinputs"]:  # cleared, so that a backward that stops setting it is seen, not a stale one
            setattr(self.layer, STORED_INPUT_GRADIENT, None)
        if before_backward is not None:
            before_backward()
        kwargs = {self.rate_name: self.rate} if self.rate_name else {}
        recorders = {}
        for name in self.optimizers:
            real = getattr(self.layer, name)
            recorders[name] = step.OptimizerRecorder(name, real, self._held_arrays)
            setattr(self.layer, name, recorders[name])
        try:
            douts = self.douts if douts is None else douts
            returned = user_call(self.backward, "grad_f", *[fresh(d) for d in douts], *cache, **kwargs)
        finally:
            for name, recorder in recorders.items():
                setattr(self.layer, name, recorder._real)
        self.captured = {k: v for r in recorders.values() for k, v in r.captured.items()}
        if returned is None and getattr(self.layer, STORED_INPUT_GRADIENT, None) is not None:
            returned, self.stored["dinputs"] = getattr(self.layer, STORED_INPUT_GRADIENT), True
        return returned

    def recovered_now(self) -> dict:
        return self.recovered

    def captured_now(self) -> dict:
        return self.captured

    def _held_arrays(self) -> dict[int, str]:
        return {id(array): name for name, (_, _, array) in step.float_arrays(self.layer).items()}

    def input_gradients(self, returned) -> dict:
        """backward's return value mapped to the input keys (a list input's gradient is a list)."""
        if len(self.positions) == 1 and is_array_list(self.inputs[self.positions[0]]):
            returned = [returned]
        by_input = _assign(returned, self.positions, len(self.inputs), self.names)
        out = {}
        for key, (i, j) in self.leaves.items():
            value = by_input[i]
            if j is not None:
                if not isinstance(value, list | tuple) or len(value) != len(self.inputs[i]):
                    raise ValueError(f"backward's gradient for the list input {self.names[i]!r} must be a list of "
                                     f"{len(self.inputs[i])} arrays like the input; got {type(value).__name__}")
                value = value[j]
            out[key] = value
        return out

    def input_point(self) -> dict:
        return {key: (self.inputs[i] if j is None else self.inputs[i][j]) for key, (i, j) in self.leaves.items()}
