"""check_vjp(FunctionClass, *inputs): the ctx-style autograd Function of micrograd-like NumPy
libraries (and of torch, written in NumPy):

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

Each forward gets a fresh context: an instance of the class where forward is an instance method
(``def forward(self, x)``, the class's own ``save_for_backward`` kept, else ours), otherwise a
``Context`` (``save_for_backward`` -> ``saved_tensors``, any attribute: ``ctx.mask = ...``). The
pair then is an ordinary forward(*inputs) -> (out, ctx) / backward(dout, ctx) for check_vjp, named
by the class's forward parameters after ctx.
"""

from __future__ import annotations

import inspect


class Context:
    """What forward(ctx, ...) may use: save_for_backward(*values) -> saved_tensors (also as
    saved_values), needs_input_grad, and any attribute it sets."""

    def __init__(self, n_inputs: int):
        self.saved_tensors: tuple = ()
        self.needs_input_grad = (True,) * n_inputs

    def save_for_backward(self, *values) -> None:
        self.saved_tensors = tuple(values)

    @property
    def saved_values(self) -> tuple:
        return self.saved_tensors


def is_function_class(obj) -> bool:
    """A class with forward and backward (a ctx-style Function), not an instance or a function."""
    return isinstance(obj, type) and callable(getattr(obj, "forward", None)) and callable(
        getattr(obj, "backward", None))


def adapt(cls, n_inputs: int):
    """(forward(*inputs) -> (out..., ctx), backward(*douts, ctx) -> grads, note) for ``cls``."""
    static = isinstance(inspect.getattr_static(cls, "forward"), staticmethod | classmethod)

    def new_context():
        if static:
            return Context(n_inputs)
        try:
            ctx = cls()
        except TypeError:
            ctx = cls.__new__(cls)
        if not callable(getattr(ctx, "save_for_backward", None)):
            ctx.saved_tensors = ()
            ctx.save_for_backward = lambda *values: setattr(ctx, "saved_tensors", tuple(values))
        return ctx

    def forward(*inputs):
        ctx = new_context()
        out = cls.forward(ctx, *inputs) if static else ctx.forward(*inputs)
        return (*out, ctx) if isinstance(out, tuple) else (out, ctx)

    def backward(*args):
        *douts, ctx = args
        return cls.backward(ctx, *douts) if static else ctx.backward(*douts)

    try:
        parameters = list(inspect.signature(cls.forward).parameters.values())[1:]  # ctx (or self) first
        forward.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        backward_parameters = list(inspect.signature(cls.backward).parameters.values())[1:]
        backward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [*backward_parameters, inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        pass
    forward.__qualname__, backward.__qualname__ = f"{cls.__qualname__}.forward", f"{cls.__qualname__}.backward"
    how = "a fresh Context (save_for_backward -> saved_tensors)" if static else f"a fresh {cls.__name__} instance"
    return forward, backward, f"{cls.__name__}: forward(ctx, ...) and backward(ctx, grad) called with {how} per forward"
